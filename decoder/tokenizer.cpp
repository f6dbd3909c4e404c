#include "decoder/tokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <queue>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/gguf.hpp"
#include "decoder/sentencepiece.hpp"

namespace aigc {
namespace {

// GPT-2's pre-tokenizer: contractions, letters, numbers, other symbols (each with one optional
// leading space), then whitespace (a run before a non-space leaves its last space to the word).
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Qwen2's (its tokenizer.json; llama.cpp's `qwen2`): contractions in any case, letters with one
// optional leading non-letter non-digit, digits one at a time, other symbols with an optional
// space and the line breaks after them, then whitespace as GPT-2's.
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The pre-tokenizers (llama.cpp's names for GGUF's tokenizer.ggml.pre) and their regexes.
// SmolLM2's own tokenizer.json splits digits one by one first, but its vocabulary merges no
// digits, so GPT-2's regex gives the same tokens (Hugging Face's GGUF reader uses it alone,
// and the tests compare with it). Others (llama3's, ...) split differently and are refused,
// not guessed.
struct PreTokenizer {
  const char* name;
  const char* pattern;
};
constexpr PreTokenizer kPreTokenizers[] = {
    {"gpt2", kGpt2Pattern},
    {"smollm", kGpt2Pattern},
    {"default", kGpt2Pattern},
    {"qwen2", kQwen2Pattern},
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// bytes_to_unicode: '!'..'~', '¡'..'¬', '®'..'ÿ' stand for themselves; the other 68 bytes for
// U+0100 + n in byte order. As UTF-8 strings, and the way back.
struct ByteMap {
  std::array<std::string, 256> to_text;
  std::unordered_map<std::string, std::uint8_t> to_byte;
  ByteMap() {
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      std::string s;
      append_utf8(s, printable ? std::uint32_t(b) : std::uint32_t(256 + n++));
      to_text[b] = s;
      to_byte[s] = std::uint8_t(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

// The length of the UTF-8 character starting at s[i] (1 for a byte that starts none).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::size_t n = c < 0x80         ? 1
                        : (c >> 5) == 6  ? 2
                        : (c >> 4) == 14 ? 3
                        : (c >> 3) == 30 ? 4
                                         : 1;
  return i + n <= s.size() ? n : 1;
}

}  // namespace

struct Tokenizer::Regex {
  pcre2_code* code = nullptr;
  explicit Regex(const char* pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    // UCP: \s, \p{L} and \p{N} by Unicode properties; MATCH_INVALID_UTF: bytes that are not
    // UTF-8 never match (they become pieces of their own) instead of failing the match.
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      throw std::logic_error(
          fmt::format("tokenizer regex: {} at {}", reinterpret_cast<const char*>(message), offset));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // where JIT exists; the interpreter otherwise
  }
  ~Regex() { pcre2_code_free(code); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls piece(text) for every match and every stretch between matches, in order.
  template <typename Fn>
  void split(std::string_view text, Fn&& piece) const {
    // Owned, so that a piece that throws (a byte with no token) does not leak it.
    const std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> owned(
        pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
    if (!owned) throw std::bad_alloc();
    pcre2_match_data* md = owned.get();
    std::size_t at = 0, gap = 0;
    while (at < text.size()) {
      const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), at,
                                 0, md, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* v = pcre2_get_ovector_pointer(md);
      if (v[0] > gap) piece(text.substr(gap, v[0] - gap));
      if (v[1] == v[0]) {  // an empty match: step over one character
        at = v[1] + utf8_length(text, v[1]);
        continue;
      }
      piece(text.substr(v[0], v[1] - v[0]));
      at = gap = v[1];
    }
    if (gap < text.size()) piece(text.substr(gap));
  }
};

// The specials' texts in a trie: the earliest match in a text and the longest there, in time
// linear in the text (times the longest special's length). Gemma has 6,414 specials; a search
// of the text for each of them cost 6,414 scans of it.
struct Tokenizer::SpecialTrie {
  struct Node {
    std::map<unsigned char, std::int32_t> next;
    std::int32_t id = -1;  // the special whose text ends here
  };
  std::vector<Node> nodes{Node{}};
  std::array<bool, 256> starts{};  // bytes some special begins with

  void add(const std::string& text, std::int32_t id) {
    if (text.empty()) return;
    std::int32_t at = 0;
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      auto it = nodes[std::size_t(at)].next.find(byte);
      if (it == nodes[std::size_t(at)].next.end()) {
        it = nodes[std::size_t(at)].next.emplace(byte, std::int32_t(nodes.size())).first;
        nodes.emplace_back();
      }
      at = it->second;
    }
    if (nodes[std::size_t(at)].id < 0) nodes[std::size_t(at)].id = id;
    starts[static_cast<unsigned char>(text[0])] = true;
  }

  // {position, id} of the first special at or after `from` (the longest at that position), or
  // {npos, -1}.
  std::pair<std::size_t, std::int32_t> find(std::string_view text, std::size_t from) const {
    for (std::size_t p = from; p < text.size(); ++p) {
      if (!starts[static_cast<unsigned char>(text[p])]) continue;
      std::int32_t at = 0, found = -1;
      for (std::size_t q = p; q < text.size(); ++q) {
        const auto& next = nodes[std::size_t(at)].next;
        const auto it = next.find(static_cast<unsigned char>(text[q]));
        if (it == next.end()) break;
        at = it->second;
        if (nodes[std::size_t(at)].id >= 0) found = nodes[std::size_t(at)].id;
      }
      if (found >= 0) return {p, found};
    }
    return {std::string_view::npos, -1};
  }
};

Tokenizer::Tokenizer(std::vector<std::string> tokens, const std::vector<std::string>& merges,
                     std::vector<std::int32_t> special, std::optional<std::int32_t> bos,
                     std::optional<std::int32_t> eos, std::string pre)
    : tokens_(std::move(tokens)), bos_(bos), eos_(eos) {
  if (tokens_.empty() || tokens_.size() > std::size_t(std::numeric_limits<std::int32_t>::max()))
    throw std::invalid_argument(fmt::format("tokenizer: {} tokens", tokens_.size()));
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    ids_.emplace(tokens_[i], std::int32_t(i));
    longest_token_ = std::max(longest_token_, tokens_[i].size());
  }
  for (std::size_t r = 0; r < merges.size(); ++r) merge_rank_.emplace(merges[r], std::int32_t(r));
  // A flag per id: decode asks of every id, and Gemma's vocabulary has thousands of specials
  // (a search of the list per id made decoding quadratic: the tokenizer's fuzz target found it).
  special_flag_.assign(tokens_.size(), false);
  specials_ = std::make_unique<SpecialTrie>();
  for (const std::int32_t id : special) {
    if (id < 0 || id >= vocab_size())
      throw std::invalid_argument(fmt::format("tokenizer: special token id {} out of range", id));
    special_flag_[std::size_t(id)] = true;
    specials_->add(tokens_[std::size_t(id)], id);
  }
  for (const auto id : {bos_, eos_}) {
    if (id && (*id < 0 || *id >= vocab_size()))
      throw std::invalid_argument(fmt::format("tokenizer: BOS/EOS id {} out of range", *id));
  }
  const auto known = std::find_if(std::begin(kPreTokenizers), std::end(kPreTokenizers),
                                  [&](const PreTokenizer& p) { return pre == p.name; });
  if (known == std::end(kPreTokenizers)) {
    std::vector<std::string> names;
    for (const PreTokenizer& p : kPreTokenizers) names.emplace_back(p.name);
    throw std::invalid_argument(
        fmt::format("pre-tokenizer '{}' is not one this tokenizer splits as (valid: {})", pre,
                    fmt::join(names, ", ")));
  }
  regex_ = std::make_unique<Regex>(known->pattern);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_gguf(const GgufFile& f) {
  const std::string model = f.get_string("tokenizer.ggml.model");
  if (model != "gpt2" && model != "llama") {
    throw GgufError(
        fmt::format("{}: tokenizer.ggml.model '{}' is not a tokenizer this reads "
                    "(valid: gpt2, byte-level BPE; llama, SentencePiece)",
                    f.path(), model));
  }
  const bool sentencepiece = model == "llama";
  std::vector<std::string> tokens = f.get_strings("tokenizer.ggml.tokens");
  const std::vector<std::string> merges =
      sentencepiece ? std::vector<std::string>{} : f.get_strings("tokenizer.ggml.merges");
  std::vector<std::int32_t> special;
  if (f.has("tokenizer.ggml.token_type")) {
    const std::vector<std::int64_t> types = f.get_ints("tokenizer.ggml.token_type");
    if (types.size() != tokens.size()) {
      throw GgufError(fmt::format("{}: tokenizer.ggml.token_type has {} entries for {} tokens",
                                  f.path(), types.size(), tokens.size()));
    }
    // 3: control, 4: user-defined (llama.cpp's numbering): matched whole, never merged into.
    for (std::size_t i = 0; i < types.size(); ++i) {
      if (types[i] == 3 || types[i] == 4) special.push_back(std::int32_t(i));
    }
  }
  // Range-checked in 64 bits: cut to 32 first, an id of 2^32 + 87 would act as 87.
  auto id_of = [&](const char* key) -> std::optional<std::int32_t> {
    if (!f.has(key)) return std::nullopt;
    const std::int64_t id = f.get_int(key);
    if (id < 0 || id >= std::int64_t(tokens.size())) {
      throw GgufError(fmt::format("{}: {} is {}, outside the vocabulary (valid: 0..{})", f.path(),
                                  key, id, tokens.size() - 1));
    }
    return static_cast<std::int32_t>(id);
  };
  // SentencePiece splits by its pieces' scores, not by a pre-tokenizer (its files say "default").
  const std::string pre =
      !sentencepiece && f.has("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "gpt2";
  auto flag = [&](const char* key, bool fallback) {
    return f.has(key) ? f.get_bool(key) : fallback;
  };
  try {
    std::vector<double> scores;
    if (sentencepiece) {
      scores = f.get_floats("tokenizer.ggml.scores");
      if (scores.size() != tokens.size()) {
        throw std::invalid_argument(
            fmt::format("tokenizer: {} scores for {} tokens", scores.size(), tokens.size()));
      }
    }
    // Read before `tokens` is moved from (the order of a call's arguments is unspecified).
    const std::optional<std::int32_t> bos = id_of("tokenizer.ggml.bos_token_id");
    const std::optional<std::int32_t> eos = id_of("tokenizer.ggml.eos_token_id");
    Tokenizer t(std::move(tokens), merges, std::move(special), bos, eos, pre);
    if (sentencepiece) {
      // SentencePiece's defaults where the file is silent: a space before the text, BOS. Its
      // pieces are looked up in the tokenizer's own vocabulary (ids_), not a copy.
      t.pieces_ =
          std::make_unique<SentencePiece>(t.ids_, std::vector<float>(scores.begin(), scores.end()),
                                          flag("tokenizer.ggml.add_space_prefix", true));
    }
    t.add_bos_ = flag("tokenizer.ggml.add_bos_token", sentencepiece) && t.bos_.has_value();
    if (f.has("tokenizer.chat_template"))
      t.chat_template_ = f.get_string("tokenizer.chat_template");
    return t;
  } catch (const std::invalid_argument& e) {
    throw GgufError(fmt::format("{}: {}", f.path(), e.what()));
  }
}

Tokenizer Tokenizer::from_vocab_and_merges(const std::string& vocab_json,
                                           const std::string& merges_txt) {
  std::ifstream vf(vocab_json), mf(merges_txt);
  if (!vf) throw std::runtime_error(fmt::format("{}: cannot open", vocab_json));
  if (!mf) throw std::runtime_error(fmt::format("{}: cannot open", merges_txt));
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(vf);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", vocab_json, e.what()));
  }
  std::vector<std::string> tokens(vocab.size());
  for (const auto& [text, id] : vocab.items()) {
    const std::int64_t i = id.get<std::int64_t>();
    if (i < 0 || i >= std::int64_t(tokens.size()) || !tokens[i].empty())
      throw std::runtime_error(
          fmt::format("{}: id {} of '{}' is out of range or taken", vocab_json, i, text));
    tokens[i] = text;
  }
  std::vector<std::string> merges;
  for (std::string line; std::getline(mf, line);) {
    if (line.rfind("#version", 0) == 0 || line.empty()) continue;
    merges.push_back(line);
  }
  std::optional<std::int32_t> eos;
  if (const auto it = vocab.find("<|endoftext|>"); it != vocab.end()) eos = it->get<std::int32_t>();
  std::vector<std::int32_t> special;
  if (eos) special.push_back(*eos);
  return Tokenizer(std::move(tokens), merges, std::move(special), eos, eos);
}

bool Tokenizer::is_special(std::int32_t id) const {
  return id >= 0 && id < vocab_size() && special_flag_[std::size_t(id)];
}

std::size_t Tokenizer::fewest_tokens(std::size_t bytes) const {
  return (bytes + longest_token_ - 1) / std::max<std::size_t>(longest_token_, 1);
}

std::optional<std::int32_t> Tokenizer::find(const std::string& token) const {
  if (const auto it = ids_.find(token); it != ids_.end()) return it->second;
  return std::nullopt;
}

namespace {

// One symbol of a word being merged: a span of the word's mapped text, in a linked list.
struct BpeSymbol {
  std::size_t begin, length;
  std::ptrdiff_t prev, next;
};

// A candidate merge of two adjacent symbols; stale once either has changed since it was queued
// (a symbol only grows, or empties when merged into its left neighbour).
struct BpeCandidate {
  std::int32_t rank;
  std::ptrdiff_t left, right;
  std::size_t left_length, right_length;
};

// The lowest rank first, then the leftmost pair: the order of merging the best-ranked pair,
// leftmost first, again and again, which is what the merge list defines.
struct LaterCandidate {
  bool operator()(const BpeCandidate& a, const BpeCandidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

// Merges with a priority queue over a linked list of symbols: O(n log n) in the word's length
// (rescanning every pair after each merge was quadratic, and a 100 KB run of one letter hung).
void Tokenizer::bpe(std::string_view piece, std::vector<std::int32_t>& out) const {
  const ByteMap& bm = byte_map();
  std::string text;
  std::vector<BpeSymbol> list;
  list.reserve(piece.size());
  for (const char c : piece) {
    const std::string& mapped = bm.to_text[static_cast<unsigned char>(c)];
    const auto i = std::ptrdiff_t(list.size());
    list.push_back({text.size(), mapped.size(), i - 1, i + 1});
    text += mapped;
  }
  if (list.empty()) return;
  list.back().next = -1;
  std::priority_queue<BpeCandidate, std::vector<BpeCandidate>, LaterCandidate> queue;
  std::string key;
  auto consider = [&](std::ptrdiff_t left, std::ptrdiff_t right) {
    if (left < 0 || right < 0) return;
    const BpeSymbol &l = list[std::size_t(left)], &r = list[std::size_t(right)];
    key.assign(text, l.begin, l.length).append(" ").append(text, r.begin, r.length);
    if (const auto it = merge_rank_.find(key); it != merge_rank_.end())
      queue.push({it->second, left, right, l.length, r.length});
  };
  for (std::size_t i = 1; i < list.size(); ++i) consider(std::ptrdiff_t(i) - 1, std::ptrdiff_t(i));
  while (!queue.empty()) {
    const BpeCandidate c = queue.top();
    queue.pop();
    BpeSymbol &l = list[std::size_t(c.left)], &r = list[std::size_t(c.right)];
    if (l.next != c.right || l.length != c.left_length || r.length != c.right_length) continue;
    l.length += r.length;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0) list[std::size_t(r.next)].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  std::vector<std::string> symbols;
  for (std::ptrdiff_t i = 0; i >= 0; i = list[std::size_t(i)].next)
    symbols.push_back(text.substr(list[std::size_t(i)].begin, list[std::size_t(i)].length));
  for (const std::string& s : symbols) {
    if (const auto it = ids_.find(s); it != ids_.end()) {
      out.push_back(it->second);
      continue;
    }
    // A merged symbol the vocabulary lacks (a damaged file): its bytes one by one.
    for (std::size_t i = 0; i < s.size();) {
      const std::size_t n = utf8_length(s, i);
      const auto it = ids_.find(s.substr(i, n));
      if (it == ids_.end()) {
        const auto byte = byte_map().to_byte.find(s.substr(i, n));
        throw std::invalid_argument(fmt::format(
            "tokenizer: the vocabulary has no token for the byte 0x{:02x} (a byte that valid "
            "UTF-8 never holds has none in most)",
            byte != byte_map().to_byte.end() ? int(byte->second) : 0));
      }
      out.push_back(it->second);
      i += n;
    }
  }
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<std::int32_t>& out) const {
  if (pieces_) return pieces_->encode(text, ids_, out);
  regex_->split(text, [&](std::string_view piece) { bpe(piece, out); });
}

std::vector<std::int32_t> Tokenizer::encode_prompt(std::string_view text) const {
  std::vector<std::int32_t> ids;
  if (add_bos_) ids.push_back(*bos_);
  const std::vector<std::int32_t> rest = encode(text);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> out;
  std::size_t start = 0;
  // Specials first: the earliest match, the longest at a position.
  while (start < text.size()) {
    const auto [best_at, best_id] = specials_->find(text, start);
    if (best_at == std::string_view::npos) break;
    encode_ordinary(text.substr(start, best_at - start), out);
    out.push_back(best_id);
    start = best_at + tokens_[std::size_t(best_id)].size();
  }
  encode_ordinary(text.substr(start), out);
  return out;
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids) const {
  const ByteMap& bm = byte_map();
  std::string out;
  for (const std::int32_t id : ids) {
    if (id < 0 || id >= vocab_size())
      throw std::out_of_range(
          fmt::format("tokenizer: id {} is out of range (valid: 0..{})", id, vocab_size() - 1));
    const std::string& t = tokens_[id];
    if (is_special(id)) {
      out += t;
      continue;
    }
    if (pieces_) {
      out += pieces_->piece_text(t);
      continue;
    }
    for (std::size_t i = 0; i < t.size();) {
      const std::size_t n = utf8_length(t, i);
      const auto it = bm.to_byte.find(t.substr(i, n));
      out += it != bm.to_byte.end() ? char(it->second) : '?';
      i += n;
    }
  }
  return out;
}

std::string Tokenizer::apply_chat_template(const std::string& user_message) const {
  if (chat_template_.empty()) {
    throw std::invalid_argument(
        "the model's file holds no chat template (tokenizer.chat_template; Gemma 3 270M's has "
        "none): give the prompt already wrapped, without --chat");
  }
  if (chat_template_.find("<|im_start|>") == std::string::npos) {
    throw std::invalid_argument(
        "the model's chat template is not ChatML (<|im_start|>...); only ChatML is applied here "
        "(no Jinja engine): give the prompt already wrapped, without --chat");
  }
  // A default system message written into the template as a literal (SmolLM2's, Qwen2's): the
  // first system turn whose text holds no template syntax (Qwen2's first is its tools branch's,
  // filled from the messages).
  // The line break after the role is a real one (SmolLM2's) or a Jinja string's "\n" (Qwen2's).
  std::string system;
  const std::string role = "<|im_start|>system";
  for (auto at = chat_template_.find(role); at != std::string::npos;
       at = chat_template_.find(role, at + 1)) {
    std::size_t from = at + role.size();
    if (chat_template_.compare(from, 1, "\n") == 0) {
      from += 1;
    } else if (chat_template_.compare(from, 2, "\\n") == 0) {
      from += 2;
    } else {
      continue;
    }
    const auto end = chat_template_.find("<|im_end|>", from);
    if (end == std::string::npos) break;
    const std::string text = chat_template_.substr(from, end - from);
    if (text.find_first_of("{}'\"\\") == std::string::npos) {
      system = text;
      break;
    }
  }
  const std::string open = role + "\n";
  std::string out;
  if (!system.empty()) out += open + system + "<|im_end|>\n";
  out += "<|im_start|>user\n" + user_message + "<|im_end|>\n<|im_start|>assistant\n";
  return out;
}

}  // namespace aigc
