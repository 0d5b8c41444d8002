package pdu

import (
	"unicode/utf8"
)

const esc = 0x1B

// defaultAlphabet is the GSM 7-bit default alphabet (TS 23.038 §6.2.1).
// 0x1B is the escape to the extension table; it decodes as a space when it
// stands alone (the spec's advice for an escape with nothing after it).
var defaultAlphabet = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// defaultExtension is the default alphabet extension table (TS 23.038
// §6.2.1.1): the character for the septet after an escape, 0 where none.
var defaultExtension = [128]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

// defaultReverse maps a code point below 0x400 to its septet in the default
// alphabet: 0 for none, c+1 for septet c, 0x100|c for extension septet c.
// Built once from the two tables above and never written after; the few
// characters above 0x3FF (€) are handled in gsmCost.
var defaultReverse = func() (t [0x400]uint16) {
	for c, r := range defaultAlphabet {
		if c != esc {
			t[r] = uint16(c) + 1
		}
	}
	for c, r := range defaultExtension {
		if r != 0 && r < 0x400 {
			t[r] = 0x100 | uint16(c)
		}
	}
	return t
}()

// charset is a pair of tables in use: the locking shift table (the default
// alphabet unless a national locking shift is active) and the single shift
// table (the extension table unless a national single shift is active).
type charset struct {
	lockLang, singleLang Language
	lock, single         *[128]rune
}

// newCharset returns the tables for the given languages. A language whose
// table the spec does not define (or which is not known) falls back to the
// default table; ok is false then.
func newCharset(lock, single Language) (cs charset, ok bool) {
	ok = true
	cs.lock, cs.single = &defaultAlphabet, &defaultExtension
	if lock != LanguageDefault {
		if t := nationalLocking(lock); t != nil {
			cs.lock, cs.lockLang = t, lock
		} else {
			ok = false
		}
	}
	if single != LanguageDefault {
		if t := nationalSingle(single); t != nil {
			cs.single, cs.singleLang = t, single
		} else {
			ok = false
		}
	}
	return cs, ok
}

func (cs *charset) isDefault() bool {
	return cs.lock == &defaultAlphabet && cs.single == &defaultExtension
}

// septet finds r in the tables: code is the septet (after an escape when
// ext), and n the number of septets (0 when r is not in the tables).
func (cs *charset) septet(r rune) (code byte, n int) {
	if cs.isDefault() {
		if r < 0x400 {
			v := defaultReverse[r]
			switch {
			case v == 0:
				return 0, 0
			case v&0x100 != 0:
				return byte(v), 2
			default:
				return byte(v - 1), 1
			}
		}
		if r == '€' {
			return 0x65, 2
		}
		return 0, 0
	}
	if r == 0 {
		return 0, 0
	}
	for c, x := range cs.lock {
		if x == r && c != esc {
			return byte(c), 1
		}
	}
	for c, x := range cs.single {
		if x == r && c != esc {
			return byte(c), 2
		}
	}
	return 0, 0
}

// decode turns septets into text. An escape followed by a septet the single
// shift table leaves empty shows the locking table's character (TS 23.038
// §6.2.1.1); a lone trailing escape shows as a space.
func (cs *charset) decode(septets []byte) string {
	// A part holds at most 160 septets; most characters take one or two
	// UTF-8 octets, so this stack buffer rarely has to grow.
	var arr [320]byte
	buf := arr[:0]
	for i := 0; i < len(septets); i++ {
		c := septets[i] & 0x7F
		var r rune
		if c == esc {
			if i+1 >= len(septets) {
				r = ' '
			} else {
				i++
				c = septets[i] & 0x7F
				r = cs.single[c]
				if r == 0 || c == esc {
					r = cs.lock[c]
				}
				if c == esc || r == 0 {
					r = ' '
				}
			}
		} else {
			r = cs.lock[c]
			if r == 0 {
				r = utf8.RuneError
			}
		}
		if r < utf8.RuneSelf {
			buf = append(buf, byte(r))
		} else {
			buf = utf8.AppendRune(buf, r)
		}
	}
	return string(buf)
}

// encode turns text into septets; it fails at the first character the
// tables lack, returning its rune index.
func (cs *charset) encode(dst []byte, text string) ([]byte, int, bool) {
	i := 0
	for _, r := range text {
		c, n := cs.septet(r)
		switch n {
		case 0:
			return dst, i, false
		case 2:
			dst = append(dst, esc, c)
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst, i, true
}

// gsm7Len is the number of septets s needs in the default alphabet, and
// whether every character is in it.
func gsm7Len(s string) (int, bool) {
	cs, _ := newCharset(LanguageDefault, LanguageDefault)
	n := 0
	for _, r := range s {
		_, k := cs.septet(r)
		if k == 0 {
			return n, false
		}
		n += k
	}
	return n, true
}

// unpack7 unpacks n septets from packed, skipping fill bits first (the
// padding that aligns septets after a user data header). Missing bits read
// as zero; callers check lengths first.
func unpack7(dst []byte, packed []byte, fill, n int) []byte {
	bit := fill
	for i := 0; i < n; i++ {
		o, s := bit>>3, uint(bit&7)
		var v uint16
		if o < len(packed) {
			v = uint16(packed[o])
		}
		if s > 1 && o+1 < len(packed) {
			v |= uint16(packed[o+1]) << 8
		}
		dst = append(dst, byte(v>>s)&0x7F)
		bit += 7
	}
	return dst
}

// pack7 packs septets after fill zero bits, appending to dst (which must
// end where the fill bits start, i.e. the fill bits belong to new octets).
func pack7(dst []byte, septets []byte, fill int) []byte {
	total := (fill + 7*len(septets) + 7) / 8
	start := len(dst)
	for i := 0; i < total; i++ {
		dst = append(dst, 0)
	}
	out := dst[start:]
	bit := fill
	for _, c := range septets {
		o, s := bit>>3, uint(bit&7)
		v := uint16(c&0x7F) << s
		out[o] |= byte(v)
		if s > 1 {
			out[o+1] |= byte(v >> 8)
		}
		bit += 7
	}
	return dst
}
