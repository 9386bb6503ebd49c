#pragma once
// One 256-entry table of character classes for the HTTP/1 grammar (RFC 9110 §5.6, RFC 9112,
// RFC 3986), so every hot loop is one load and one test per byte.
#include <array>
#include <cstdint>
#include <string_view>

#include "common/ascii.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fulcrum::http::chars {

enum : uint8_t {
  kTchar = 1 << 0,   // token: ALPHA DIGIT !#$%&'*+-.^_`|~
  kField = 1 << 1,   // field-value byte: VCHAR, obs-text, SP, HTAB
  kTarget = 1 << 2,  // request-target byte: VCHAR (no SP, CTL, DEL or non-ASCII)
  kDigit = 1 << 3,
  kHex = 1 << 4,
  kHost = 1 << 5,    // uri-host and port: unreserved, pct-encoded, sub-delims, ":", "[", "]"
  kScheme = 1 << 6,  // ALPHA DIGIT "+" "-" "."
  kQdtext = 1 << 7,  // quoted-string body: HTAB SP 0x21 0x23-0x5B 0x5D-0x7E obs-text
};

constexpr bool isAlpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool isDigitChar(int c) { return c >= '0' && c <= '9'; }
constexpr bool inSet(int c, std::string_view set) { return set.find(static_cast<char>(c)) != set.npos; }

constexpr std::array<uint8_t, 256> makeTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool alnum = isAlpha(c) || isDigitChar(c);
    const bool vchar = c >= 0x21 && c <= 0x7e;
    if (alnum || inSet(c, "!#$%&'*+-.^_`|~")) {
      v |= kTchar;
    }
    if (vchar || c >= 0x80 || c == ' ' || c == '\t') {
      v |= kField;
    }
    if (vchar) {
      v |= kTarget;
    }
    if (isDigitChar(c)) {
      v |= kDigit;
    }
    if (isDigitChar(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
      v |= kHex;
    }
    if (alnum || inSet(c, "-._~%!$&'()*+,;=:[]")) {
      v |= kHost;
    }
    if (alnum || inSet(c, "+-.")) {
      v |= kScheme;
    }
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
        c >= 0x80) {
      v |= kQdtext;
    }
    t[c] = v;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kTable = makeTable();

inline bool is(char c, uint8_t cls) { return (kTable[static_cast<uint8_t>(c)] & cls) != 0; }

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

inline int hexValue(char c) {
  if (c <= '9') {
    return c - '0';
  }
  return (c | 0x20) - 'a' + 10;
}

// `lower` must be lower case already (it is always a literal here).
inline bool equalsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (lowerAscii(s[i]) != lower[i]) {
      return false;
    }
  }
  return true;
}

inline bool allOf(std::string_view s, uint8_t cls) {
  for (char c : s) {
    if (!is(c, cls)) {
      return false;
    }
  }
  return true;
}

#if defined(__SSE2__)
// Vector helpers: each returns a 16-bit mask of the bytes of `v` outside a class.
inline __m128i atMost(__m128i v, char max) {  // unsigned v <= max
  return _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(max)), v);
}
inline __m128i inRange(__m128i v, char lo, char hi) {  // unsigned lo <= v <= hi
  return atMost(_mm_sub_epi8(v, _mm_set1_epi8(lo)), static_cast<char>(hi - lo));
}
inline int fieldValueMisses(__m128i v) {  // CTLs other than HTAB, and DEL
  const __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), atMost(v, 0x1f));
  return _mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
}
inline int vcharMisses(__m128i v) { return 0xffff & ~_mm_movemask_epi8(inRange(v, 0x21, 0x7e)); }
inline int lfHits(__m128i v) { return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))); }
inline int commonNameMisses(__m128i v) {  // outside [A-Za-z0-9-], a subset of tchar
  const __m128i alpha = inRange(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
  const __m128i ok =
      _mm_or_si128(_mm_or_si128(alpha, inRange(v, '0', '9')), _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
  return 0xffff & ~_mm_movemask_epi8(ok);
}

// The first byte of [p, e) that `misses` flags, or e. [floor, e) must be readable: the last
// partial block is loaded as the 16 bytes ending at e (when floor allows) and the bytes
// before p masked off, so short tails need no byte loop.
template <int (*misses)(__m128i)>
inline const char* scan(const char* p, const char* e, const char* floor) {
  while (e - p >= 16) {
    if (const int m = misses(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); m != 0) {
      return p + __builtin_ctz(static_cast<unsigned>(m));
    }
    p += 16;
  }
  if (p == e || e - floor < 16) {
    return nullptr;  // caller finishes byte by byte
  }
  const char* q = e - 16;
  const unsigned m = static_cast<unsigned>(misses(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)))) &
                     ~((1u << (p - q)) - 1);
  return m != 0 ? q + __builtin_ctz(m) : e;
}
#endif

// The first byte of [p, e) that may not appear in a field value (a CTL other than HTAB, or
// DEL), or e. Values are most of a head's bytes, hence 16 at a time where SSE2 exists.
inline const char* skipFieldValue(const char* p, const char* e, const char* floor) {
#if defined(__SSE2__)
  if (const char* r = scan<fieldValueMisses>(p, e, floor); r != nullptr) {
    return r;
  }
#endif
  while (p < e && is(*p, kField)) {
    ++p;
  }
  return p;
}

// The first byte of [p, e) that is not a VCHAR (0x21-0x7e), or e.
inline const char* skipVchar(const char* p, const char* e, const char* floor) {
#if defined(__SSE2__)
  if (const char* r = scan<vcharMisses>(p, e, floor); r != nullptr) {
    return r;
  }
#endif
  while (p < e && is(*p, kTarget)) {
    ++p;
  }
  return p;
}

// The first byte of [p, e) that is not a tchar, or e. Only whole blocks are vectorised (a
// name is followed by its value, so there usually is one), for the common [A-Za-z0-9-].
inline const char* skipToken(const char* p, const char* e) {
#if defined(__SSE2__)
  while (e - p >= 16) {
    if (const int m = commonNameMisses(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); m != 0) {
      p += __builtin_ctz(static_cast<unsigned>(m));
      break;
    }
    p += 16;
  }
#endif
  while (p < e && is(*p, kTchar)) {
    ++p;
  }
  return p;
}

// The first LF in [p, e), or null.
inline const char* findLf(const char* p, const char* e, const char* floor) {
#if defined(__SSE2__)
  if (const char* r = scan<lfHits>(p, e, floor); r != nullptr) {
    return r == e ? nullptr : r;
  }
#endif
  while (p < e && *p != '\n') {
    ++p;
  }
  return p == e ? nullptr : p;
}

}  // namespace fulcrum::http::chars
