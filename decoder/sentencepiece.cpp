#include "decoder/sentencepiece.hpp"

#include <queue>
#include <stdexcept>

#include <fmt/format.h>

namespace aigc {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// The length of the UTF-8 character starting with byte c (1 for a byte that starts none).
std::size_t utf8_length(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
}

// A run of the text, linked to its neighbours; a merged-away symbol has length 0.
struct Symbol {
  std::size_t begin = 0, length = 0;
  std::ptrdiff_t prev = -1, next = -1;
};

// Two adjacent symbols whose concatenation is a piece; stale once either has changed (the
// length no longer matches).
struct Bigram {
  float score;
  std::ptrdiff_t left, right;
  std::size_t length;
};

struct WorseBigram {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

std::optional<std::int32_t> id_of(const PieceIds& ids, std::string_view piece) {
  if (const auto it = ids.find(std::string(piece)); it != ids.end()) return it->second;
  return std::nullopt;
}

}  // namespace

SentencePiece::SentencePiece(const PieceIds& ids, std::vector<float> scores, bool add_space_prefix)
    : scores_(std::move(scores)), add_space_prefix_(add_space_prefix) {
  for (const auto& [piece, id] : ids) {
    if (id < 0 || std::size_t(id) >= scores_.size()) {
      throw std::invalid_argument(
          fmt::format("tokenizer: {} scores, and a piece has the id {}", scores_.size(), id));
    }
  }
  for (int b = 0; b < 256; ++b) {
    const auto id = id_of(ids, fmt::format("<0x{:02X}>", b));
    if (!id) {
      throw std::invalid_argument(
          fmt::format("tokenizer: no byte-fallback token <0x{:02X}> in the vocabulary", b));
    }
    byte_ids_[b] = *id;
  }
}

void SentencePiece::encode(std::string_view raw, const PieceIds& ids,
                           std::vector<std::int32_t>& out) const {
  if (raw.empty()) return;
  std::string text = add_space_prefix_ ? std::string(kSpace) : std::string();
  for (const char c : raw) {
    if (c == ' ') {
      text += kSpace;
    } else {
      text += c;
    }
  }
  std::vector<Symbol> symbols;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t n =
        std::min(utf8_length(static_cast<unsigned char>(text[at])), text.size() - at);
    const auto i = std::ptrdiff_t(symbols.size());
    symbols.push_back({at, n, i - 1, at + n < text.size() ? i + 1 : -1});
    at += n;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, WorseBigram> queue;
  auto consider = [&](std::ptrdiff_t left, std::ptrdiff_t right) {
    if (left < 0 || right < 0) return;
    const Symbol &l = symbols[std::size_t(left)], &r = symbols[std::size_t(right)];
    const std::size_t length = l.length + r.length;
    if (const auto id = id_of(ids, std::string_view(text).substr(l.begin, length)))
      queue.push({scores_[std::size_t(*id)], left, right, length});
  };
  for (std::size_t i = 1; i < symbols.size(); ++i)
    consider(std::ptrdiff_t(i) - 1, std::ptrdiff_t(i));
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol &l = symbols[std::size_t(b.left)], &r = symbols[std::size_t(b.right)];
    if (l.length == 0 || r.length == 0 || l.length + r.length != b.length) continue;
    l.length = b.length;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[std::size_t(r.next)].prev = b.left;
    consider(l.prev, b.left);
    consider(b.left, l.next);
  }
  // Each symbol left is a piece, or a single character the vocabulary lacks: its bytes.
  for (std::ptrdiff_t i = 0; i >= 0; i = symbols[std::size_t(i)].next) {
    const Symbol& s = symbols[std::size_t(i)];
    const std::string_view piece = std::string_view(text).substr(s.begin, s.length);
    if (const auto id = id_of(ids, piece)) {
      out.push_back(*id);
      continue;
    }
    for (const char c : piece) out.push_back(byte_ids_[static_cast<unsigned char>(c)]);
  }
}

std::string SentencePiece::piece_text(const std::string& piece) const {
  // <0xNN>: one byte.
  if (piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece.back() == '>') {
    unsigned value = 0;
    for (std::size_t i = 3; i < 5; ++i) {
      const char c = piece[i];
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (digit < 0) return piece;
      value = value * 16 + unsigned(digit);
    }
    return std::string(1, char(value));
  }
  std::string out;
  for (std::size_t at = 0; at < piece.size();) {
    if (piece.compare(at, kSpace.size(), kSpace) == 0) {
      out += ' ';
      at += kSpace.size();
    } else {
      out += piece[at++];
    }
  }
  return out;
}

}  // namespace aigc
