#pragma once
// A workload's shape, parsed once when the command line is read: its canonical text (the CSV's
// shape column, "M=1024,N=1024,K=1024") and the workload's own struct (MatmulShape,
// AttentionShape, DecoderShape, ...), held type-erased so that one plan lists shapes of every
// workload. Every later step reads the struct; nothing parses the text again.
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

namespace aigc {

class Shape {
 public:
  Shape() = default;
  template <typename Parsed>
  Shape(std::string canonical, Parsed parsed)
      : text_(std::move(canonical)),
        parsed_(std::make_shared<const Parsed>(std::move(parsed))),
        type_(&typeid(Parsed)) {}

  // The canonical text: equal texts are the same shape.
  const std::string& text() const { return text_; }
  bool empty() const { return parsed_ == nullptr; }

  // The workload's struct. Asking for another type is a caller's bug (a shape handed to a
  // workload that did not parse it): std::logic_error, never a wrong read.
  template <typename Parsed>
  const Parsed& as() const {
    if (type_ == nullptr || *type_ != typeid(Parsed))
      throw std::logic_error("shape '" + text_ + "' read as another workload's shape");
    return *static_cast<const Parsed*>(parsed_.get());
  }

  friend bool operator==(const Shape& a, const Shape& b) { return a.text_ == b.text_; }

 private:
  std::string text_;
  std::shared_ptr<const void> parsed_;
  const std::type_info* type_ = nullptr;
};

}  // namespace aigc
