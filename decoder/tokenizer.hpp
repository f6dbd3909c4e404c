#pragma once
// A GGUF file's tokenizer, of either model its tokenizer.ggml.model names:
//   gpt2   byte-level BPE as GPT-2 defines it (and SmolLM2, Llama 3, Qwen after it), below;
//   llama  SentencePiece's BPE (Gemma, Llama 2: decoder/sentencepiece.hpp), scored pieces with
//          byte fallback.
// Byte-level BPE: text is split into
// pieces by a pre-tokenizer regex, each piece's bytes are mapped to printable characters
// (bytes_to_unicode: printable bytes stand for themselves, the rest for U+0100 onwards), and
// adjacent symbols are merged by the merge list's rank until no ranked pair is left. Special
// (control) tokens such as <|im_start|> are matched in the text first and never split.
//
// Sources: a GGUF file's metadata (tokenizer.ggml.tokens, .merges, .token_type, BOS/EOS ids,
// .pre) or Hugging Face's vocab.json + merges.txt. Any UTF-8 text encodes and decodes back as it
// was, token by token too, though a token's bytes may be only part of a character; a byte the
// vocabulary has no token for (0xff in SmolLM2's, which valid UTF-8 never holds) is an
// std::invalid_argument naming it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aigc {

class GgufFile;
class SentencePiece;

class Tokenizer {
 public:
  // tokens[id]: the token's text in the byte-to-unicode form (specials as they read);
  // merges: "left right" pairs, best first; special: the ids matched whole in the text.
  Tokenizer(std::vector<std::string> tokens, const std::vector<std::string>& merges,
            std::vector<std::int32_t> special, std::optional<std::int32_t> bos,
            std::optional<std::int32_t> eos, std::string pre = "gpt2");
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // From a GGUF file's metadata; throws GgufError naming the file and the key that is missing
  // or wrong (a tokenizer model other than gpt2, a merge of unknown tokens, ...).
  static Tokenizer from_gguf(const GgufFile& file);
  // From Hugging Face's vocab.json and merges.txt (a GPT-2 checkpoint's folder).
  static Tokenizer from_vocab_and_merges(const std::string& vocab_json,
                                         const std::string& merges_txt);

  std::vector<std::int32_t> encode(std::string_view text) const;
  // A prompt's ids: BOS first where the file asks for it (tokenizer.ggml.add_bos_token: Gemma),
  // then encode(text).
  std::vector<std::int32_t> encode_prompt(std::string_view text) const;
  bool adds_bos() const { return add_bos_; }
  // The bytes of the tokens (specials as their text). A byte sequence may end mid-character:
  // concatenating the decodes of consecutive tokens gives the decode of all of them.
  std::string decode(const std::vector<std::int32_t>& ids) const;
  std::string decode_one(std::int32_t id) const { return decode({id}); }

  std::int64_t vocab_size() const { return static_cast<std::int64_t>(tokens_.size()); }
  // A lower bound on the tokens any text of `bytes` bytes encodes to, known before encoding:
  // no token's stored text is shorter than the input bytes it stands for (byte-level BPE maps
  // a byte to 1-2 bytes, SentencePiece a space to 3 and a fallback byte to 6), so none covers
  // more than the longest token's length.
  std::size_t fewest_tokens(std::size_t bytes) const;
  std::optional<std::int32_t> bos() const { return bos_; }
  std::optional<std::int32_t> eos() const { return eos_; }
  bool is_special(std::int32_t id) const;
  // The id of a token by its text (specials by theirs), if any.
  std::optional<std::int32_t> find(const std::string& token) const;
  // The chat template from the file's metadata, empty if none.
  const std::string& chat_template() const { return chat_template_; }
  // The prompt wrapped for an instruct model: ChatML (<|im_start|>role\n...<|im_end|>) with
  // the template's default system message where it writes one, then the assistant's turn
  // opened. Throws std::invalid_argument when the template is not ChatML (no Jinja engine here).
  std::string apply_chat_template(const std::string& user_message) const;

 private:
  void bpe(std::string_view piece, std::vector<std::int32_t>& out) const;
  void encode_ordinary(std::string_view text, std::vector<std::int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::size_t longest_token_ = 0;  // bytes of the longest token's text
  std::unordered_map<std::string, std::int32_t> ids_;
  std::unordered_map<std::string, std::int32_t> merge_rank_;  // "left right" -> rank
  std::vector<bool> special_flag_;                            // by id
  std::optional<std::int32_t> bos_, eos_;
  std::string chat_template_;
  bool add_bos_ = false;
  struct Regex;
  std::unique_ptr<Regex> regex_;  // byte-level BPE's pre-tokenizer
  struct SpecialTrie;
  std::unique_ptr<SpecialTrie> specials_;  // the specials' texts, for matching
  std::unique_ptr<SentencePiece> pieces_;  // set for a SentencePiece model (no regex, merges)
};

}  // namespace aigc
