#pragma once
// A stable sort compiled once for the whole module. libc++'s std::stable_sort
// instantiates ~2.5 KB of merge code per comparator, and the gateway sorts
// with many small comparators (object members for cache keys, routing
// chains, edits, suggestions); here each caller adds only a small thunk.
// O(n log n), so a request cannot make it slow.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace gw {

using IndexLess = bool (*)(const void* context, uint32_t a, uint32_t b);

// Reorders `order` (indices) stably by `less`.
void stableSortIndices(std::vector<uint32_t>& order, IndexLess less, const void* context);

template <typename T, typename Less>
void stableSort(std::vector<T>& items, Less less) {
  if (items.size() < 2) return;
  struct Context {
    const std::vector<T>* items;
    const Less* less;
  } context{&items, &less};
  std::vector<uint32_t> order(items.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  stableSortIndices(
      order,
      [](const void* c, uint32_t a, uint32_t b) {
        const auto* x = static_cast<const Context*>(c);
        return (*x->less)((*x->items)[a], (*x->items)[b]);
      },
      &context);
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (uint32_t i : order) sorted.push_back(std::move(items[i]));
  items.swap(sorted);
}

}  // namespace gw
