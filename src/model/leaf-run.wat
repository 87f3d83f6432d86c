;; The walker's leaf-page loop (src/model/leaf-run.ts): `npm run wasm` assembles this file into
;; leaf-run-wasm.ts. Memory: one 64 KiB page declared, grown by leaf-run.ts to hold the leaf pages
;; the walker reads (a single one at offset 0, a read-ahead batch after it) and the mapping records,
;; column by column as the model keeps mappings (src/model/mapping-list.ts), so the walker copies
;; each column of a batch of records into the domain's list in one call.
(module
  (memory (export "memory") 1)

  ;; The mapping being built by leafScan, carried from one leaf page to the next: IOVA page, host
  ;; page, length in 4 KiB pages, permission bits (read 1, write 2, SNP 4, TM 8); $open = 0: none.
  (global $open (mut i32) (i32.const 0))
  (global $oIova (mut i64) (i64.const 0))
  (global $oHpa (mut i64) (i64.const 0))
  (global $oPages (mut i64) (i64.const 0))
  (global $oBits (mut i32) (i32.const 0))
  ;; Finished mappings written at $recBase in four columns of $recCap: IOVA page, host page and
  ;; pages as f64, then the attribute byte (mapping-list.ts: read 1, write 2, SNP 4 + 8, TM 16 + 32).
  (global $nRec (mut i32) (i32.const 0))
  (global $recCap (mut i32) (i32.const 0))
  ;; 4 KiB pages added to mappings (open or finished) since takePages last said.
  (global $pagesAdded (mut f64) (f64.const 0))
  ;; The walk's settings, given once to resetLeaves (leafScan runs once per leaf page — 32 k times
  ;; for a 64 GiB VM — and a call from JavaScript costs by the argument: ten took twice four).
  (global $first (mut i32) (i32.const 0))
  (global $presentMask (mut i64) (i64.const 3))
  (global $badMask (mut i64) (i64.const 0))
  (global $max (mut i64) (i64.const 0))
  (global $recBase (mut i32) (i32.const 0))

  ;; runEnd(base, i, limit) -> k: with v the 64-bit PTE at base + 8*i, the first index k in
  ;; (i, limit) whose PTE is not v + 4096*(k - i), or limit when every one up to it is. The caller
  ;; bounds limit so that the address cannot carry past the host address width.
  (func $runEnd (export "runEnd") (param $base i32) (param $i i32) (param $limit i32) (result i32)
    (local $exp i64) (local $vexp v128) (local $step v128) (local $p i32) (local $end i32)
    (local.set $exp (i64.add (i64.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))) (i64.const 4096)))
    ;; Two PTEs per compare, two compares per step while four remain: (exp, exp + 4096), then the next pair.
    (local.set $vexp (i64x2.replace_lane 1 (i64x2.splat (local.get $exp)) (i64.add (local.get $exp) (i64.const 4096))))
    (local.set $step (i64x2.splat (i64.const 8192)))
    (local.set $p (i32.add (local.get $base) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3))))
    (local.set $end (i32.add (local.get $base) (i32.shl (local.get $limit) (i32.const 3))))
    (block $done
      (loop $quad
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end)))
        (br_if $done (i32.eqz (i64x2.all_true (i64x2.eq (v128.load (local.get $p)) (local.get $vexp)))))
        (local.set $vexp (i64x2.add (local.get $vexp) (local.get $step)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $done (i32.eqz (i64x2.all_true (i64x2.eq (v128.load (local.get $p)) (local.get $vexp)))))
        (local.set $vexp (i64x2.add (local.get $vexp) (local.get $step)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $quad)))
    ;; The rest one at a time, from the first PTE not yet known to match.
    (local.set $exp (i64x2.extract_lane 0 (local.get $vexp)))
    (block $out
      (loop $one
        (br_if $out (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $out (i64.ne (i64.load (local.get $p)) (local.get $exp)))
        (local.set $exp (i64.add (local.get $exp) (i64.const 4096)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $one)))
    (i32.shr_u (i32.sub (local.get $p) (local.get $base)) (i32.const 3)))

  ;; The mapping being built, as a record; no mapping is open after it. Its bits (read 1, write 2,
  ;; SNP 4, TM 8) become the attribute byte: SNP and TM set are SNP/TM given and set (4 KiB pages).
  (func $emit (param $recBase i32)
    (local $at i32) (local $col i32) (local $bits i32)
    (local.set $col (i32.shl (global.get $recCap) (i32.const 3)))
    (local.set $at (i32.add (local.get $recBase) (i32.shl (global.get $nRec) (i32.const 3))))
    (f64.store (local.get $at) (f64.convert_i64_u (global.get $oIova)))
    (local.set $at (i32.add (local.get $at) (local.get $col)))
    (f64.store (local.get $at) (f64.convert_i64_u (global.get $oHpa)))
    (local.set $at (i32.add (local.get $at) (local.get $col)))
    (f64.store (local.get $at) (f64.convert_i64_u (global.get $oPages)))
    (local.set $bits (global.get $oBits))
    (i32.store8
      (i32.add (i32.add (local.get $recBase) (i32.mul (local.get $col) (i32.const 3))) (global.get $nRec))
      (i32.or (i32.and (local.get $bits) (i32.const 3))
        (i32.or (select (i32.const 12) (i32.const 0) (i32.and (local.get $bits) (i32.const 4)))
                (select (i32.const 48) (i32.const 0) (i32.and (local.get $bits) (i32.const 8))))))
    (global.set $nRec (i32.add (global.get $nRec) (i32.const 1)))
    (global.set $open (i32.const 0)))

  ;; leafScan(base, start, iovaBase, parentMask, first, badLo, badHi, maxPfn, recBase, recCap) -> r:
  ;; the PTEs of the leaf page at `base` from index `start` on, whose first maps IOVA page
  ;; `iovaBase`, joined into the mapping being built and the ones after it, finished mappings
  ;; written as records (the walker's MappingCoalescer semantics: contiguous IOVA and host pages,
  ;; equal bits). A PTE is present when bit 0 is set (first level) or bit 0 or 1 (second level);
  ;; one with a bit of badHi:badLo set (address bits at or above the host address width, SNP/TM the
  ;; unit lacks) is left to the caller. r = 512: page done; r < 512: PTE r is bad (record its
  ;; problem, call again from r + 1); r = 1024 + i: the records are full (take them, call again
  ;; from i). Runs stop before host page `maxPfn` (2^(HAW − 12)). `first`, badHi:badLo, maxPfn and
  ;; where the records go are the walk's, given to resetLeaves.
  (func (export "leafScan") (param $base i32) (param $start i32) (param $iovaBase f64) (param $parentMask i32) (result i32)
    (local $i i32) (local $k i32) (local $pte i64) (local $bits i32) (local $hpa i64) (local $iova i64) (local $room i64)
    (local $limit i32) (local $pages i64) (local $presentMask i64) (local $max i64) (local $iova0 i64) (local $badMask i64)
    (local $first i32) (local $recBase i32) (local $recCap i32)
    (local.set $first (global.get $first))
    (local.set $badMask (global.get $badMask))
    (local.set $presentMask (global.get $presentMask))
    (local.set $max (global.get $max))
    (local.set $recBase (global.get $recBase))
    (local.set $recCap (global.get $recCap))
    ;; (No i64 parameters: from JavaScript they are BigInts, which the call converts slowly.)
    (local.set $iova0 (i64.trunc_f64_u (local.get $iovaBase)))
    (local.set $i (local.get $start))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 512)))
        (local.set $pte (i64.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 3)))))
        (if (i64.eqz (i64.and (local.get $pte) (local.get $presentMask)))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (if (i64.ne (i64.and (local.get $pte) (local.get $badMask)) (i64.const 0))
          (then (return (local.get $i))))
        (if (i32.ge_u (global.get $nRec) (local.get $recCap))
          (then (return (i32.add (local.get $i) (i32.const 1024)))))
        ;; R (bit 0; implied by P at first level), W (bit 1), SNP (bit 11 -> 4), TM (bit 62 -> 8).
        (local.set $bits
          (if (result i32) (local.get $first)
            (then (i32.and (i32.or (i32.const 1) (i32.and (i32.wrap_i64 (local.get $pte)) (i32.const 2))) (local.get $parentMask)))
            (else (i32.or
              (i32.and (i32.wrap_i64 (local.get $pte)) (i32.and (local.get $parentMask) (i32.const 3)))
              (i32.or
                (i32.and (i32.wrap_i64 (i64.shr_u (local.get $pte) (i64.const 9))) (i32.const 4))
                (i32.and (i32.wrap_i64 (i64.shr_u (local.get $pte) (i64.const 59))) (i32.const 8)))))))
        (local.set $hpa (i64.and (i64.shr_u (local.get $pte) (i64.const 12)) (i64.const 0xffffffffff)))
        ;; The run may extend over `room` more PTEs: its last page stays below maxPfn.
        (local.set $room (i64.sub (i64.sub (local.get $max) (i64.const 1)) (local.get $hpa)))
        (local.set $limit
          (select
            (i32.add (i32.add (local.get $i) (i32.const 1)) (i32.wrap_i64 (local.get $room)))
            (i32.const 512)
            (i64.lt_s (local.get $room) (i64.extend_i32_u (i32.sub (i32.const 511) (local.get $i))))))
        (local.set $k (call $runEnd (local.get $base) (local.get $i) (local.get $limit)))
        (local.set $pages (i64.extend_i32_u (i32.sub (local.get $k) (local.get $i))))
        (local.set $iova (i64.add (local.get $iova0) (i64.extend_i32_u (local.get $i))))
        (global.set $pagesAdded (f64.add (global.get $pagesAdded) (f64.convert_i64_u (local.get $pages))))
        (if (i32.and
              (global.get $open)
              (i32.and
                (i32.and
                  (i64.eq (local.get $iova) (i64.add (global.get $oIova) (global.get $oPages)))
                  (i64.eq (local.get $hpa) (i64.add (global.get $oHpa) (global.get $oPages))))
                (i32.eq (local.get $bits) (global.get $oBits))))
          (then (global.set $oPages (i64.add (global.get $oPages) (local.get $pages))))
          (else
            (if (global.get $open) (then (call $emit (local.get $recBase))))
            (global.set $open (i32.const 1))
            (global.set $oIova (local.get $iova))
            (global.set $oHpa (local.get $hpa))
            (global.set $oPages (local.get $pages))
            (global.set $oBits (local.get $bits))))
        (local.set $i (local.get $k))
        (br $next)))
    (i32.const 512))

  ;; finishLeaves() -> records: the mapping being built becomes a record (the caller leaves room for
  ;; one); returns how many records there are.
  (func (export "finishLeaves") (result i32)
    (if (global.get $open) (then (call $emit (global.get $recBase))))
    (global.get $nRec))

  ;; records() -> how many records leafScan wrote; clearRecords(): the caller took them.
  (func (export "records") (result i32) (global.get $nRec))
  (func (export "clearRecords") (global.set $nRec (i32.const 0)))
  ;; takePages() -> the 4 KiB pages leafScan added to mappings since the last call.
  (func (export "takePages") (result f64)
    (local $p f64)
    (local.set $p (global.get $pagesAdded))
    (global.set $pagesAdded (f64.const 0))
    (local.get $p))
  ;; resetLeaves(first, badLo, badHi, maxPfn, recBase, recCap): a new walk — its settings (first
  ;; level or second; the PTE bits that make one bad; the host page runs stop before; the records'
  ;; place and room), no mapping open, no records, no pages.
  (func (export "resetLeaves") (param $first i32) (param $badLo i32) (param $badHi i32) (param $maxPfn f64) (param $recBase i32) (param $recCap i32)
    (global.set $first (local.get $first))
    (global.set $presentMask (select (i64.const 1) (i64.const 3) (local.get $first)))
    (global.set $badMask (i64.or (i64.extend_i32_u (local.get $badLo)) (i64.shl (i64.extend_i32_u (local.get $badHi)) (i64.const 32))))
    (global.set $max (i64.trunc_f64_u (local.get $maxPfn)))
    (global.set $recBase (local.get $recBase))
    (global.set $recCap (local.get $recCap))
    (global.set $open (i32.const 0))
    (global.set $nRec (i32.const 0))
    (global.set $pagesAdded (f64.const 0)))
)
