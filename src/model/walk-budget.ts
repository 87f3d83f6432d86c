/**
 * The work bound of table walks (WalkBudget) and the allocation-free set of page frame numbers
 * the walker and the budget keep (PfnSet).
 */
const TWO_POW_32 = 4294967296;
/** PFNs per bitmap of a PfnSet (8 KiB of bits: 256 MiB of physical memory). */
const CHUNK_PFNS = 65536;
/** Bitmaps one PfnSet may make (512 KiB); PFNs of further chunks go to its hash table. */
const MAX_BITMAPS = 64;

/**
 * A set of page frame numbers (integers below 2^53). Table pages cluster (a kernel allocates them
 * from a few regions), so PFNs are kept as bits in 8 KiB bitmaps, one per 64 Ki-page chunk
 * touched, the last one used at hand: a walk of 32 k table pages asks ~5 questions per page, and
 * a hash table's scattered probes cost a tenth of the walk. Scattered PFNs — more chunks than
 * MAX_BITMAPS, as hostile tables make — go to an open-addressed Float64Array instead (a
 * Set<number> would box every PFN above 2^30), so memory stays bounded either way.
 */
export class PfnSet {
  private readonly bitmaps = new Map<number, Uint32Array>();
  private lastChunk = -1;
  private lastBits: Uint32Array | undefined;
  private keys: Float64Array | undefined;
  private hashed = 0;
  private count = 0;

  /** Add `pfn`; false when it was already there. */
  add(pfn: number): boolean {
    const chunk = Math.floor(pfn / CHUNK_PFNS);
    let bits = chunk === this.lastChunk ? this.lastBits : this.bitmap(chunk);
    if (bits === undefined && this.bitmaps.size < MAX_BITMAPS && (this.keys === undefined || !this.hashHas(pfn))) {
      // A chunk gets its bitmap when first touched, while there is room: its PFNs are never hashed.
      bits = new Uint32Array(CHUNK_PFNS / 32);
      this.bitmaps.set(chunk, bits);
      this.lastChunk = chunk;
      this.lastBits = bits;
    }
    if (bits === undefined) {
      if (!this.hashAdd(pfn)) return false;
    } else {
      const i = pfn - chunk * CHUNK_PFNS;
      const word = i >>> 5;
      const bit = 1 << (i & 31);
      if ((bits[word] & bit) !== 0) return false;
      bits[word] |= bit;
    }
    this.count++;
    return true;
  }

  has(pfn: number): boolean {
    const chunk = Math.floor(pfn / CHUNK_PFNS);
    const bits = chunk === this.lastChunk ? this.lastBits : this.bitmap(chunk);
    if (bits === undefined) return this.keys !== undefined && this.hashHas(pfn);
    const i = pfn - chunk * CHUNK_PFNS;
    return (bits[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  get size(): number {
    return this.count;
  }

  /** The bitmap of `chunk` (kept at hand for the next question), if it has one. */
  private bitmap(chunk: number): Uint32Array | undefined {
    const bits = this.bitmaps.get(chunk);
    if (bits !== undefined) {
      this.lastChunk = chunk;
      this.lastBits = bits;
    }
    return bits;
  }

  private hashAdd(pfn: number): boolean {
    let keys = this.keys ?? (this.keys = new Float64Array(1024).fill(-1));
    let mask = keys.length - 1;
    let h = hashPfn(pfn) & mask;
    for (;;) {
      const k = keys[h];
      if (k === pfn) return false;
      if (k === -1) break;
      h = (h + 1) & mask;
    }
    keys[h] = pfn;
    if (++this.hashed * 2 > keys.length) {
      const old = keys;
      keys = this.keys = new Float64Array(old.length * 2).fill(-1);
      mask = keys.length - 1;
      for (const k of old) {
        if (k === -1) continue;
        let j = hashPfn(k) & mask;
        while (keys[j] !== -1) j = (j + 1) & mask;
        keys[j] = k;
      }
    }
    return true;
  }

  private hashHas(pfn: number): boolean {
    const keys = this.keys!;
    const mask = keys.length - 1;
    for (let h = hashPfn(pfn) & mask; ; h = (h + 1) & mask) {
      const k = keys[h];
      if (k === pfn) return true;
      if (k === -1) return false;
    }
  }
}

function hashPfn(pfn: number): number {
  const h = Math.imul((pfn >>> 0) ^ Math.floor(pfn / TWO_POW_32), 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Table-page reads a unit's walks may make beyond one per distinct page present (see WalkBudget). */
export const WALK_EXTRA_READS = 512;
/** How many more times, on average, each distinct table page present may be read. */
export const WALK_REREAD_FACTOR = 1;
/**
 * Mappings (coalesced ranges) the walks of one unit may make; past it they are cut short. The
 * bench's 1 TiB VM in scattered host runs has ~1 M; a 64 MiB image of random in-image pointers
 * made 14 M (2.4 GB of heap). Each costs ~120 bytes of heap (its object, a boxed IOVA above 2^31, its slot).
 */
export const MAX_MAPPINGS_PER_UNIT = 1 << 22;
/** Problems one walk records one by one; past it they are counted in one `budget` problem. */
export const MAX_PROBLEMS_PER_WALK = 1024;

/**
 * The work bound of table walks: what a real host can have. A real host's page tables are trees
 * (Linux and FreeBSD never share a table page between entries or domains), so a walk reads each
 * page once. Shared pages make a DAG whose paths multiply — three pages in a fan give 512^3 paths —
 * so reads are bounded by the pages that are really there: every distinct page present in the
 * image may be read once, plus `WALK_REREAD_FACTOR` re-reads per distinct page and
 * `WALK_EXTRA_READS` more for the whole unit. A read of a page the image lacks is a re-read too,
 * so a table of pointers to nowhere cannot make unbounded problems. Leaves visited are at most
 * 512 per read, so mappings are bounded by the same figure; mappings per domain are bounded by the
 * address width anyway (each IOVA is reached by one path). One budget is shared by all the walks
 * of a unit, so many domains pointing into one shared table are bounded together.
 */
export class WalkBudget {
  /** Distinct table pages read successfully, across the walks sharing this budget. */
  private readonly distinct = new PfnSet();
  /** Table pages asked for that the image did not hold. */
  private readonly absent = new PfnSet();
  /** Table-page reads (successful or not) made so far. */
  reads = 0;
  /** Set once a read was refused. */
  exhausted = false;
  /** Mappings made by the finished walks under this budget. */
  mappings = 0;
  /** Set once a walk was refused for the mappings already made. */
  mappingsFull = false;

  constructor(
    readonly extraReads: number = WALK_EXTRA_READS,
    readonly rereadFactor: number = WALK_REREAD_FACTOR,
    readonly maxMappings: number = MAX_MAPPINGS_PER_UNIT,
  ) {}

  /** Before reading a table page, with `current` mappings made by the walk under way. */
  allowMappings(current: number): boolean {
    if (this.mappings + current < this.maxMappings) return true;
    this.mappingsFull = true;
    return false;
  }

  /** Reads allowed at this point. */
  get limit(): number {
    return this.extraReads + (1 + this.rereadFactor) * this.distinct.size;
  }

  /** True when `pfn` was never asked for under this budget: reading it is always allowed. */
  isNew(pfn: number): boolean {
    return !this.distinct.has(pfn) && !this.absent.has(pfn);
  }

  /** Before reading `pfn`: a page never asked for always may be (the image bounds those that exist). */
  allow(pfn: number): boolean {
    if (this.reads < this.limit || this.isNew(pfn)) return true;
    this.exhausted = true;
    return false;
  }

  /** After reading `pfn` (`present`: the image held it). False when a page that was not there went over the budget. */
  count(pfn: number, present: boolean): boolean {
    this.reads++;
    if (present) {
      this.distinct.add(pfn);
      return true;
    }
    this.absent.add(pfn);
    if (this.reads <= this.limit) return true;
    this.exhausted = true;
    return false;
  }
}
