;; The scan's zero test (src/scan/zero-test.ts): where the first non-zero byte of a stretch of the
;; memory is, 64 bytes a step (four 16-byte loads OR-ed together). Images are full of zero pages
;; (free memory, the holes of sparse files); the scan skips them with one pass over its buffer at
;; memory speed — Buffer.compare against a buffer of zeros read two streams for one answer.
;; `npm run wasm` assembles this file into zero-test-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; firstNonZero(at, len) -> d: the offset from `at` of the first 64-byte block of [at, at + len)
  ;; holding a byte that is not zero, or len when there is none. `len` is a multiple of 64 (`at` need
  ;; not be: loads may be unaligned).
  (func (export "firstNonZero") (param $at i32) (param $len i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (local.get $at))
    (local.set $end (i32.add (local.get $at) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (v128.any_true
          (v128.or
            (v128.or (v128.load (local.get $p)) (v128.load offset=16 (local.get $p)))
            (v128.or (v128.load offset=32 (local.get $p)) (v128.load offset=48 (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $next)))
    (i32.sub (local.get $p) (local.get $at))))
