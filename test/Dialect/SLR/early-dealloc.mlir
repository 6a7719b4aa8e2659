// RUN: slr-opt %s -split-input-file -slr-early-dealloc | FileCheck %s

// Each buffer is freed right after the last use of it or of a view of it.
// CHECK-LABEL: func.func @chain
// CHECK: %[[A:.*]] = memref.alloc
// CHECK-NEXT: call @use(%[[A]])
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[B:.*]] = memref.alloc
// CHECK-NEXT: %[[V:.*]] = memref.collapse_shape %[[B]]
// CHECK-NEXT: call @use_flat(%[[V]])
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: return
func.func private @use(memref<4x8xf32>)
func.func private @use_flat(memref<32xf32>)
func.func @chain() {
  %a = memref.alloc() : memref<4x8xf32>
  call @use(%a) : (memref<4x8xf32>) -> ()
  %b = memref.alloc() : memref<4x8xf32>
  %v = memref.collapse_shape %b [[0, 1]] : memref<4x8xf32> into memref<32xf32>
  call @use_flat(%v) : (memref<32xf32>) -> ()
  memref.dealloc %a : memref<4x8xf32>
  memref.dealloc %b : memref<4x8xf32>
  return
}

// -----

// A use nested in a region counts at its enclosing op; a buffer whose view
// is returned, or one allocated in another block, stays where it is freed.
// CHECK-LABEL: func.func @nested
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: scf.for
// CHECK: memref.load %[[A]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: %[[R:.*]] = memref.alloc
// CHECK: %[[C:.*]] = memref.cast %[[R]]
// CHECK-NEXT: call @other
// CHECK-NEXT: memref.dealloc %[[R]]
// CHECK-NEXT: return %[[C]]
func.func private @other()
func.func @nested(%n: index) -> memref<?x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<4x8xf32>
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %a[%c0, %c0] : memref<4x8xf32>
  }
  %r = memref.alloc() : memref<4x8xf32>
  %c = memref.cast %r : memref<4x8xf32> to memref<?x8xf32>
  call @other() : () -> ()
  memref.dealloc %r : memref<4x8xf32>
  memref.dealloc %a : memref<4x8xf32>
  return %c : memref<?x8xf32>
}
