// The methods --slr-compress names in its help, in its unknown-method error
// and in slr-opt --list-compression-methods (what scripts/flow.sh runs) all
// come from the method registry: the three lists are the same.
//
// RUN: slr-opt --list-compression-methods > %t.list
// RUN: FileCheck %s --check-prefix=LIST --input-file=%t.list
// RUN: not slr-opt %s -slr-compress="method=best" -o /dev/null 2> %t.err
// RUN: FileCheck %s --check-prefix=ERROR --input-file=%t.err
// RUN: sed -n "s/.*expected one of: //p" %t.err | tr -d ' ' | tr ',' '\n' > %t.error-list
// RUN: diff %t.list %t.error-list
// RUN: slr-opt --help | sed -n "s/.*--method=<string> *- compression method: \([^;]*\);.*/\1/p" | tr -d ' ' | tr ',' '\n' > %t.help-list
// RUN: diff %t.list %t.help-list
// The library-only method (no sparse part) is refused by name.
// RUN: not slr-opt %s -slr-compress="method=svd" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SVD

// LIST: magnitude
// LIST-NEXT: wanda
// LIST-NEXT: sparsegpt
// LIST-NEXT: oats
// LIST-NEXT: 3basil
// LIST-NEXT: hassle-free
// LIST-NEXT: slr
// LIST-NOT: {{.}}
// ERROR: error: slr-compress: unknown method 'best'; expected one of: magnitude, wanda, sparsegpt, oats, 3basil, hassle-free, slr
// SVD: error: slr-compress: method 'svd' has no sparse part and no slr.linear form; use it from the library

func.func @empty() {
  return
}
