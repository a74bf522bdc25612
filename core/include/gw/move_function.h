#pragma once
// A move-only std::function. Effect callbacks are created once and called
// once; std::function's copy support (two clone functions, target and
// target_type per lambda type) was a measurable share of the module.
#include <memory>
#include <type_traits>
#include <utility>

namespace gw {

template <typename Signature>
class MoveFunction;

template <typename R, typename... Args>
class MoveFunction<R(Args...)> {
 public:
  MoveFunction() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, MoveFunction>>>
  MoveFunction(F&& f) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}
  MoveFunction(MoveFunction&&) noexcept = default;
  MoveFunction& operator=(MoveFunction&&) noexcept = default;

  R operator()(Args... args) const { return impl_->call(std::forward<Args>(args)...); }
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual R call(Args... args) = 0;
  };
  template <typename F>
  struct Impl final : Base {
    template <typename G>
    explicit Impl(G&& g) : f(std::forward<G>(g)) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
    F f;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace gw
