package at

// maxLine bounds one line so that a modem spewing garbage without line ends
// cannot grow memory without limit; a longer run is cut into pieces.
const maxLine = 4096

type tokenKind uint8

const (
	tokLine   tokenKind = iota // a line without its line end (may be empty of meaning; classify trims it)
	tokPrompt                  // the SMS prompt: '>' at the start of a line, one optional space eaten
)

type token struct {
	kind tokenKind
	text string
}

// framer cuts the byte stream into lines and prompts. It is deliberately
// independent of how the bytes were split into reads: the same stream gives
// the same tokens whatever the chunking (FuzzFramer checks that), which is why
// the prompt is recognised by its position ('>' first on a line) rather than
// by "no more bytes for now".
type framer struct {
	buf       []byte
	lineStart bool // nothing but line ends since the last token
	eatSpace  bool // just saw a prompt: a following ' ' belongs to it
}

func newFramer() *framer { return &framer{lineStart: true} }

// feed frames p, calling emit for each complete token in stream order.
func (f *framer) feed(p []byte, emit func(token)) {
	for _, b := range p {
		if f.eatSpace {
			f.eatSpace = false
			if b == ' ' {
				continue
			}
		}
		switch {
		case b == '\r' || b == '\n':
			if len(f.buf) > 0 {
				emit(token{kind: tokLine, text: string(f.buf)})
				f.buf = f.buf[:0]
			}
			f.lineStart = true
		case b == '>' && len(f.buf) == 0 && f.lineStart:
			emit(token{kind: tokPrompt})
			f.eatSpace = true
		default:
			f.buf = append(f.buf, b)
			f.lineStart = false
			if len(f.buf) >= maxLine {
				emit(token{kind: tokLine, text: string(f.buf)})
				f.buf = f.buf[:0]
			}
		}
	}
}

// trimLine removes spaces and control characters (NUL, ESC, Ctrl-Z left over
// from echoes) at both ends.
func trimLine(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] <= ' ' || s[i] == 0x7f) {
		i++
	}
	for j > i && (s[j-1] <= ' ' || s[j-1] == 0x7f) {
		j--
	}
	return s[i:j]
}
