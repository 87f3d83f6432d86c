;; The decode JSON's mapping lines (src/report/json-lines.ts): `npm run wasm` assembles this file
;; into json-lines-wasm.ts. Memory: constants at 0, records at 1024, the text written at 9216.
(module
  (memory (export "memory") 2)

  ;; Pieces of a line, at the offsets json-lines.ts names (and nothing else below 1024).
  (data (i32.const 0) "{\"iova\": \"0x")        ;; 0, 12
  (data (i32.const 16) "\", \"hpa\": \"0x")     ;; 16, 13
  (data (i32.const 32) "\", \"size\": \"0x")    ;; 32, 14
  (data (i32.const 48) "\", \"read\": ")        ;; 48, 11
  (data (i32.const 64) ", \"write\": ")         ;; 64, 11
  (data (i32.const 80) ", \"pageSize\": ")      ;; 80, 14
  (data (i32.const 96) ", \"snp\": ")           ;; 96, 9
  (data (i32.const 112) ", \"tm\": ")           ;; 112, 8
  (data (i32.const 128) "true")                 ;; 128, 4
  (data (i32.const 136) "false")                ;; 136, 5
  (data (i32.const 144) "4096")                 ;; 144, 4
  (data (i32.const 152) "2097152")              ;; 152, 7
  (data (i32.const 160) "1073741824")           ;; 160, 10
  (data (i32.const 176) "0123456789abcdef")     ;; 176, 16

  (global $out (mut i32) (i32.const 0))

  ;; `len` bytes from `src` to the text.
  (func $put (param $src i32) (param $len i32)
    (memory.copy (global.get $out) (local.get $src) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))

  (func $byte (param $b i32)
    (i32.store8 (global.get $out) (local.get $b))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))

  (func $bool (param $v i32)
    (if (local.get $v) (then (call $put (i32.const 128) (i32.const 4))) (else (call $put (i32.const 136) (i32.const 5)))))

  ;; The digits of page number `pfn` × 4096 after "0x": the page's hex digits and "000", or "0".
  (func $pfnAddr (param $pfn i64)
    (local $digits i32) (local $p i32)
    (if (i64.eqz (local.get $pfn))
      (then (call $byte (i32.const 48)) (return)))
    (local.set $digits (i32.shr_u (i32.sub (i32.const 67) (i32.wrap_i64 (i64.clz (local.get $pfn)))) (i32.const 2)))
    (local.set $p (i32.add (global.get $out) (local.get $digits)))
    (global.set $out (local.get $p))
    (loop $d
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.load8_u offset=176 (i32.wrap_i64 (i64.and (local.get $pfn) (i64.const 15)))))
      (local.set $pfn (i64.shr_u (local.get $pfn) (i64.const 4)))
      (br_if $d (i64.ne (local.get $pfn) (i64.const 0))))
    (call $byte (i32.const 48)) (call $byte (i32.const 48)) (call $byte (i32.const 48)))

  ;; lines(count, first, indent) -> bytes: `count` records at 1024 in columns of 256, as the model
  ;; keeps mappings (src/model/mapping-list.ts): IOVA page (f64, at 1024), host page (f64, 3072),
  ;; pages (f64, 5120), flags (u8, 7168: read 1, write 2, SNP given 4, SNP 8, TM given 16, TM 32,
  ;; page size 64·k for 4 KiB, 2 MiB, 1 GiB) as array elements, each "\n" + `indent` spaces + the
  ;; mapping, the first after "[" when `first`, the others after ",". The text starts at 9216.
  (func (export "lines") (param $count i32) (param $first i32) (param $indent i32) (result i32)
    (local $r i32) (local $at i32) (local $flags i32) (local $s i32)
    (global.set $out (i32.const 9216))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $at (i32.add (i32.const 1024) (i32.shl (local.get $r) (i32.const 3))))
        (call $byte (select (i32.const 91) (i32.const 44) (i32.and (local.get $first) (i32.eqz (local.get $r)))))
        (call $byte (i32.const 10))
        (memory.fill (global.get $out) (i32.const 32) (local.get $indent))
        (global.set $out (i32.add (global.get $out) (local.get $indent)))
        (local.set $flags (i32.load8_u offset=7168 (local.get $r)))
        (call $put (i32.const 0) (i32.const 12))
        (call $pfnAddr (i64.trunc_f64_u (f64.load (local.get $at))))
        (call $put (i32.const 16) (i32.const 13))
        (call $pfnAddr (i64.trunc_f64_u (f64.load offset=2048 (local.get $at))))
        (call $put (i32.const 32) (i32.const 14))
        (call $pfnAddr (i64.trunc_f64_u (f64.load offset=4096 (local.get $at))))
        (call $put (i32.const 48) (i32.const 11))
        (call $bool (i32.and (local.get $flags) (i32.const 1)))
        (call $put (i32.const 64) (i32.const 11))
        (call $bool (i32.and (local.get $flags) (i32.const 2)))
        (call $put (i32.const 80) (i32.const 14))
        (local.set $s (i32.shr_u (local.get $flags) (i32.const 6)))
        (if (i32.eqz (local.get $s))
          (then (call $put (i32.const 144) (i32.const 4)))
          (else (if (i32.eq (local.get $s) (i32.const 1))
            (then (call $put (i32.const 152) (i32.const 7)))
            (else (call $put (i32.const 160) (i32.const 10))))))
        (if (i32.and (local.get $flags) (i32.const 4))
          (then (call $put (i32.const 96) (i32.const 9)) (call $bool (i32.and (local.get $flags) (i32.const 8)))))
        (if (i32.and (local.get $flags) (i32.const 16))
          (then (call $put (i32.const 112) (i32.const 8)) (call $bool (i32.and (local.get $flags) (i32.const 32)))))
        (call $byte (i32.const 125))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next)))
    (i32.sub (global.get $out) (i32.const 9216)))
)
