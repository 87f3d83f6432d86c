;; The walker's leaf-run loop (src/model/leaf-run.ts): `npm run wasm` assembles this file into
;; leaf-run-wasm.ts. One 64 KiB page of memory; the walker reads each leaf table page to offset 0.
(module
  (memory (export "memory") 1)

  ;; runEnd(base, i, limit) -> k: with v the 64-bit PTE at base + 8*i, the first index k in
  ;; (i, limit) whose PTE is not v + 4096*(k - i), or limit when every one up to it is. The caller
  ;; bounds limit so that the address cannot carry past the host address width.
  (func (export "runEnd") (param $base i32) (param $i i32) (param $limit i32) (result i32)
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
)
