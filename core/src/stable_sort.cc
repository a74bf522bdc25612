#include "gw/stable_sort.h"

namespace gw {

void stableSortIndices(std::vector<uint32_t>& order, IndexLess less, const void* context) {
  // Bottom-up merge sort: runs of 1, 2, 4, … merged between two buffers.
  const size_t n = order.size();
  std::vector<uint32_t> other(n);
  std::vector<uint32_t>* from = &order;
  std::vector<uint32_t>* to = &other;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = lo + width < n ? lo + width : n;
      const size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t a = lo, b = mid, k = lo;
      // Take from the right run only when strictly less: equal items keep their order.
      while (a < mid && b < hi) (*to)[k++] = less(context, (*from)[b], (*from)[a]) ? (*from)[b++] : (*from)[a++];
      while (a < mid) (*to)[k++] = (*from)[a++];
      while (b < hi) (*to)[k++] = (*from)[b++];
    }
    std::swap(from, to);
  }
  if (from != &order) order.swap(*from);
}

}  // namespace gw
