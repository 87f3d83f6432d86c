;; A domain's host view (src/checks/host-order.ts): its mappings' host ranges [S, E) and their
;; order by (start, end, index), from a stable radix sort of one 64-bit key per range — the start
;; above the end's bits, the end below — carried with its index. `npm run wasm` assembles this file
;; into host-order-wasm.ts. host-order.ts lays the arrays out in the memory, grown to fit, and
;; calls ends, sort and gather in turn; the module never grows its memory itself.
(module
  (memory (export "memory") 1)

  ;; ends(n, S, P, E) -> max: E[i] = S[i] + P[i] (f64 arrays at byte offsets S, P, E; E may be P) and the
  ;; largest E; −1 when some S[i] or E[i] is not an integer with 0 ≤ S[i] ≤ E[i] < 2^32 (then the
  ;; caller sorts in JavaScript: keys of both would not fit 64 bits). NaN fails every comparison.
  (func (export "ends") (param $n i32) (param $S i32) (param $P i32) (param $E i32) (result f64)
    (local $i i32) (local $s f64) (local $e f64) (local $ok i32) (local $max f64)
    (local.set $ok (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f64.load (i32.add (local.get $S) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $e (f64.add (local.get $s) (f64.load (i32.add (local.get $P) (i32.shl (local.get $i) (i32.const 3))))))
        (f64.store (i32.add (local.get $E) (i32.shl (local.get $i) (i32.const 3))) (local.get $e))
        (local.set $ok
          (i32.and (local.get $ok)
            (i32.and
              (i32.and (f64.ge (local.get $s) (f64.const 0)) (f64.eq (local.get $s) (f64.floor (local.get $s))))
              (i32.and
                (i32.and (f64.ge (local.get $e) (local.get $s)) (f64.eq (local.get $e) (f64.floor (local.get $e))))
                (f64.lt (local.get $e) (f64.const 4294967296))))))
        (local.set $max (f64.max (local.get $max) (local.get $e)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (select (local.get $max) (f64.const -1) (local.get $ok)))

  ;; sort(n, S, E, bits, K0, I0, K1, I1, C) -> 0 | 1: the indices 0..n−1 ordered by (S, E, index),
  ;; with their keys S·2^bits + E, at I0/K0 (0) or I1/K1 (1); the other pair is scratch (K0 may be S,
  ;; and K1 E: each key is made from S[i] and E[i] before K0[i] is written). `bits`
  ;; holds every E (so every S ≤ E); C: room for 6 × 2048 u32 counts. Each 11-bit digit of the
  ;; key, low to high, is one stable counting-sort pass (a digit every key shares is skipped), so
  ;; equal keys keep the index order.
  (func (export "sort") (param $n i32) (param $S i32) (param $E i32) (param $bitsIn i32)
        (param $K0 i32) (param $I0 i32) (param $K1 i32) (param $I1 i32) (param $C i32) (result i32)
    (local $bits i64) (local $i i32) (local $key i64) (local $passes i32) (local $p i32) (local $sh i64) (local $cp i32)
    (local $d i32) (local $at i32) (local $c i32) (local $sum i32) (local $skip i32)
    (local $fk i32) (local $fi i32) (local $tk i32) (local $ti i32) (local $t i32) (local $which i32)
    ;; (No i64 parameters: from JavaScript they are BigInts.)
    (local.set $bits (i64.extend_i32_u (local.get $bitsIn)))
    ;; 2·bits ≤ 64 key bits in ⌈2·bits / 11⌉ passes (at least one).
    (local.set $passes (i32.div_u (i32.add (i32.wrap_i64 (i64.shl (local.get $bits) (i64.const 1))) (i32.const 10)) (i32.const 11)))
    (if (i32.eqz (local.get $passes)) (then (local.set $passes (i32.const 1))))
    (memory.fill (local.get $C) (i32.const 0) (i32.mul (local.get $passes) (i32.const 8192)))
    ;; The keys, the identity order, and every pass's counts in one go.
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $key
          (i64.or
            (i64.shl (i64.trunc_f64_u (f64.load (i32.add (local.get $S) (i32.shl (local.get $i) (i32.const 3))))) (local.get $bits))
            (i64.trunc_f64_u (f64.load (i32.add (local.get $E) (i32.shl (local.get $i) (i32.const 3)))))))
        (i64.store (i32.add (local.get $K0) (i32.shl (local.get $i) (i32.const 3))) (local.get $key))
        (i32.store (i32.add (local.get $I0) (i32.shl (local.get $i) (i32.const 2))) (local.get $i))
        (local.set $p (i32.const 0))
        (local.set $sh (i64.const 0))
        (block $counted
          (loop $digit
            (br_if $counted (i32.ge_u (local.get $p) (local.get $passes)))
            (local.set $at (i32.add (i32.add (local.get $C) (i32.shl (local.get $p) (i32.const 13)))
              (i32.shl (i32.wrap_i64 (i64.and (i64.shr_u (local.get $key) (local.get $sh)) (i64.const 2047))) (i32.const 2))))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $sh (i64.add (local.get $sh) (i64.const 11)))
            (br $digit)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $fk (local.get $K0))
    (local.set $fi (local.get $I0))
    (local.set $tk (local.get $K1))
    (local.set $ti (local.get $I1))
    (local.set $p (i32.const 0))
    (local.set $sh (i64.const 0))
    (block $sorted
      (loop $pass
        (br_if $sorted (i32.ge_u (local.get $p) (local.get $passes)))
        (local.set $cp (i32.add (local.get $C) (i32.shl (local.get $p) (i32.const 13))))
        ;; A digit every key has: the pass would move nothing.
        (local.set $skip (i32.eq
          (i32.load (i32.add (local.get $cp) (i32.shl (i32.wrap_i64 (i64.and (i64.shr_u (i64.load (local.get $fk)) (local.get $sh)) (i64.const 2047))) (i32.const 2))))
          (local.get $n)))
        (if (i32.eqz (local.get $skip))
          (then
            ;; Counts to starting places.
            (local.set $d (i32.const 0))
            (local.set $sum (i32.const 0))
            (block $summed
              (loop $sums
                (br_if $summed (i32.ge_u (local.get $d) (i32.const 2048)))
                (local.set $at (i32.add (local.get $cp) (i32.shl (local.get $d) (i32.const 2))))
                (local.set $c (i32.load (local.get $at)))
                (i32.store (local.get $at) (local.get $sum))
                (local.set $sum (i32.add (local.get $sum) (local.get $c)))
                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                (br $sums)))
            ;; Each key and index to its digit's next place, in the order they come (stable).
            (local.set $i (i32.const 0))
            (block $moved
              (loop $move
                (br_if $moved (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $key (i64.load (i32.add (local.get $fk) (i32.shl (local.get $i) (i32.const 3)))))
                (local.set $at (i32.add (local.get $cp)
                  (i32.shl (i32.wrap_i64 (i64.and (i64.shr_u (local.get $key) (local.get $sh)) (i64.const 2047))) (i32.const 2))))
                (local.set $c (i32.load (local.get $at)))
                (i32.store (local.get $at) (i32.add (local.get $c) (i32.const 1)))
                (i64.store (i32.add (local.get $tk) (i32.shl (local.get $c) (i32.const 3))) (local.get $key))
                (i32.store (i32.add (local.get $ti) (i32.shl (local.get $c) (i32.const 2)))
                  (i32.load (i32.add (local.get $fi) (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $move)))
            (local.set $t (local.get $fk))
            (local.set $fk (local.get $tk))
            (local.set $tk (local.get $t))
            (local.set $t (local.get $fi))
            (local.set $fi (local.get $ti))
            (local.set $ti (local.get $t))
            (local.set $which (i32.xor (local.get $which) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $sh (i64.add (local.get $sh) (i64.const 11)))
        (br $pass)))
    (local.get $which))

  ;; gather(n, K, I, bits, F, SS, SE, SW): the ranges in the sorted order, from the sorted keys —
  ;; SS[k] = K[k] >> bits, SE[k] = K[k] mod 2^bits — and SW[k] = 1 when bit 1 (W) of the attribute
  ;; byte F[I[k]] is set. SS may be the scratch key array, and SE may be K itself (each key is read
  ;; before either is written).
  (func (export "gather") (param $n i32) (param $K i32) (param $I i32) (param $bitsIn i32) (param $F i32) (param $SS i32) (param $SE i32) (param $SW i32)
    (local $k i32) (local $key i64) (local $mask i64) (local $bits i64)
    (local.set $bits (i64.extend_i32_u (local.get $bitsIn)))
    (local.set $mask (i64.sub (i64.shl (i64.const 1) (local.get $bits)) (i64.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $key (i64.load (i32.add (local.get $K) (i32.shl (local.get $k) (i32.const 3)))))
        (f64.store (i32.add (local.get $SS) (i32.shl (local.get $k) (i32.const 3))) (f64.convert_i64_u (i64.shr_u (local.get $key) (local.get $bits))))
        (f64.store (i32.add (local.get $SE) (i32.shl (local.get $k) (i32.const 3))) (f64.convert_i64_u (i64.and (local.get $key) (local.get $mask))))
        (i32.store8 (i32.add (local.get $SW) (local.get $k))
          (i32.and (i32.shr_u (i32.load8_u (i32.add (local.get $F) (i32.load (i32.add (local.get $I) (i32.shl (local.get $k) (i32.const 2)))))) (i32.const 1)) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next))))
  ;; writableUnion(n, SS, SE, SW, OS, OE) -> m: the union of the ranges [SS[k], SE[k]) whose SW[k]
  ;; is 1 — already sorted by start — joined where they overlap or touch, as m ranges at OS/OE
  ;; (f64; room for n each). hpa-leak-shared's footprint of a domain, in one pass here instead of
  ;; one cold JavaScript loop over every mapping.
  (func (export "writableUnion") (param $n i32) (param $SS i32) (param $SE i32) (param $SW i32) (param $OS i32) (param $OE i32) (result i32)
    (local $k i32) (local $m i32) (local $a f64) (local $b f64) (local $last f64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (if (i32.load8_u (i32.add (local.get $SW) (local.get $k)))
          (then
            (local.set $a (f64.load (i32.add (local.get $SS) (i32.shl (local.get $k) (i32.const 3)))))
            (local.set $b (f64.load (i32.add (local.get $SE) (i32.shl (local.get $k) (i32.const 3)))))
            (if (i32.and (i32.ne (local.get $m) (i32.const 0)) (f64.le (local.get $a) (local.get $last)))
              (then
                (if (f64.gt (local.get $b) (local.get $last))
                  (then
                    (local.set $last (local.get $b))
                    (f64.store (i32.add (local.get $OE) (i32.shl (i32.sub (local.get $m) (i32.const 1)) (i32.const 3))) (local.get $b)))))
              (else
                (f64.store (i32.add (local.get $OS) (i32.shl (local.get $m) (i32.const 3))) (local.get $a))
                (f64.store (i32.add (local.get $OE) (i32.shl (local.get $m) (i32.const 3))) (local.get $b))
                (local.set $last (local.get $b))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $m))
)
