#pragma once
// SentencePiece's BPE as a GGUF file keeps it (tokenizer.ggml.model = llama: Gemma, Llama 2):
// a vocabulary of pieces with scores, spaces written as U+2581 ("▁"), and bytes the pieces do
// not cover written as <0xNN> tokens (byte fallback). Encoding starts from the text's UTF-8
// characters and merges, again and again, the adjacent pair whose concatenation is the
// best-scored piece (the leftmost on a tie), with a priority queue over a linked list of
// symbols: O(n log n) in the text's length. Decoding writes the pieces back with spaces and
// the fallback bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aigc {

// The vocabulary (piece -> id) is the tokenizer's, passed in rather than copied (262,144 pieces
// in Gemma's).
using PieceIds = std::unordered_map<std::string, std::int32_t>;

class SentencePiece {
 public:
  // ids: every piece's id; scores[id] for each; add_space_prefix: a space before the text, as
  // SentencePiece's add_dummy_prefix (Gemma 3's files: no). Throws std::invalid_argument when
  // the scores do not cover the ids or a byte has no <0xNN> token.
  SentencePiece(const PieceIds& ids, std::vector<float> scores, bool add_space_prefix);

  // Appends the ids of `text` (no specials in it: the tokenizer matches those first); `ids`:
  // the vocabulary given to the constructor.
  void encode(std::string_view text, const PieceIds& ids, std::vector<std::int32_t>& out) const;
  // The bytes a piece stands for: "▁" as a space, <0xNN> as its byte.
  std::string piece_text(const std::string& piece) const;

 private:
  std::vector<float> scores_;
  std::int32_t byte_ids_[256];
  bool add_space_prefix_;
};

}  // namespace aigc
