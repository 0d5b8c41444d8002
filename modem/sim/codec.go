package sim

// The sim's own small TPDU codec: just what a network needs to read an
// SMS-SUBMIT and to build SMS-DELIVER and SMS-STATUS-REPORT TPDUs. It is kept
// here, independent of modem/pdu, so that the virtual modem is a second,
// independent implementation the real codec is tested against (a bug shared
// by both would otherwise pass unnoticed).

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// gsm7 is the GSM 7-bit default alphabet (TS 23.038 §6.2.1).
var gsm7 = []rune("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsm7ext is the default alphabet extension table (escape 0x1B then code).
var gsm7ext = map[byte]rune{0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\', 0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€'}

// toGSM7 converts text to septets; ok is false if a rune is not in the
// default alphabet or its extension.
func toGSM7(text string) (septets []byte, ok bool) {
	for _, r := range text {
		if i := indexRune(gsm7, r); i >= 0 && r != 0x1b {
			septets = append(septets, byte(i))
			continue
		}
		found := false
		for c, er := range gsm7ext {
			if er == r {
				septets = append(septets, 0x1b, c)
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return septets, true
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// fromGSM7 converts septets to text; unknown escapes read as a space.
func fromGSM7(septets []byte) string {
	var b strings.Builder
	for i := 0; i < len(septets); i++ {
		c := septets[i] & 0x7f
		if c == 0x1b && i+1 < len(septets) {
			i++
			if r, ok := gsm7ext[septets[i]&0x7f]; ok {
				b.WriteRune(r)
			} else {
				b.WriteRune(' ')
			}
			continue
		}
		b.WriteRune(gsm7[c])
	}
	return b.String()
}

// pack7 packs septets after fill bits of padding (used when a UDH precedes
// the text so that the text starts on a septet boundary).
func pack7(septets []byte, fill int) []byte {
	total := fill + 7*len(septets)
	out := make([]byte, (total+7)/8)
	bit := fill
	for _, s := range septets {
		for k := 0; k < 7; k++ {
			if s&(1<<k) != 0 {
				out[bit/8] |= 1 << (bit % 8)
			}
			bit++
		}
	}
	return out
}

// unpack7 reads n septets after fill bits.
func unpack7(data []byte, fill, n int) ([]byte, error) {
	if (fill+7*n+7)/8 > len(data) {
		return nil, errors.New("user data shorter than its length")
	}
	out := make([]byte, n)
	bit := fill
	for i := range out {
		var s byte
		for k := 0; k < 7; k++ {
			if data[bit/8]&(1<<(bit%8)) != 0 {
				s |= 1 << k
			}
			bit++
		}
		out[i] = s
	}
	return out, nil
}

// isAlphanumeric says whether a sender must be coded as an alphanumeric
// address (TON 101) rather than digits.
func isAlphanumeric(s string) bool {
	t := strings.TrimPrefix(s, "+")
	if t == "" {
		return true
	}
	for _, r := range t {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return true
		}
	}
	return false
}

// encodeAddress codes an originating or destination address (TS 23.040
// §9.1.2.5): length in useful semi-octets, type of address, value.
func encodeAddress(s string) []byte {
	if isAlphanumeric(s) {
		sept, _ := toGSM7(s)
		packed := pack7(sept, 0)
		semi := (len(sept)*7 + 3) / 4
		return append([]byte{byte(semi), 0xD0}, packed...)
	}
	toa := byte(0x81)
	if strings.HasPrefix(s, "+") {
		toa = 0x91
		s = s[1:]
	}
	return append([]byte{byte(len(s)), toa}, bcd(s)...)
}

// encodeSCA codes a service centre address as +CMGS/+CMGR show it before
// the TPDU: the length counts octets, not digits.
func encodeSCA(s string) []byte {
	if s == "" {
		return []byte{0}
	}
	a := encodeAddress(s)
	return append([]byte{byte(len(a) - 1)}, a[1:]...)
}

func bcd(digits string) []byte {
	out := make([]byte, 0, (len(digits)+1)/2)
	for i := 0; i < len(digits); i += 2 {
		lo := semiOctet(digits[i])
		hi := byte(0xF)
		if i+1 < len(digits) {
			hi = semiOctet(digits[i+1])
		}
		out = append(out, hi<<4|lo)
	}
	return out
}

func semiOctet(c byte) byte {
	switch c {
	case '*':
		return 0xA
	case '#':
		return 0xB
	}
	return c - '0'
}

// decodeAddress reads an address field at b; it returns the address and the
// number of octets used.
func decodeAddress(b []byte) (string, int, error) {
	if len(b) < 2 {
		return "", 0, errors.New("address truncated")
	}
	n := int(b[0])
	toa := b[1]
	octets := (n + 1) / 2
	if len(b) < 2+octets {
		return "", 0, errors.New("address truncated")
	}
	v := b[2 : 2+octets]
	if toa&0x70 == 0x50 {
		sept, err := unpack7(v, 0, n*4/7)
		if err != nil {
			return "", 0, err
		}
		return fromGSM7(sept), 2 + octets, nil
	}
	var sb strings.Builder
	if toa&0x70 == 0x10 {
		sb.WriteByte('+')
	}
	for i := 0; i < n; i++ {
		d := v[i/2] >> (4 * (i % 2)) & 0xF
		sb.WriteByte("0123456789*#abc?"[d])
	}
	return sb.String(), 2 + octets, nil
}

// encodeSCTS codes a service centre time stamp (TS 23.040 §9.2.3.11).
func encodeSCTS(t time.Time) []byte {
	_, off := t.Zone()
	q := off / 900
	neg := q < 0
	if neg {
		q = -q
	}
	sw := func(v int) byte { return byte(v%10)<<4 | byte(v/10%10) }
	tz := sw(q)
	if neg {
		tz |= 0x08
	}
	return []byte{sw(t.Year() % 100), sw(int(t.Month())), sw(t.Day()), sw(t.Hour()), sw(t.Minute()), sw(t.Second()), tz}
}

// submit is what the network needs from an SMS-SUBMIT.
type submit struct {
	MR      int
	SRR     bool
	To      string
	DCS     byte
	UDH     []byte
	UD      []byte // raw user data (after the UDH), septets unpacked for 7-bit
	Text    string
	Ref     int // concatenation reference, 0 if single
	Part    int
	Total   int
	SrcPort int
	DstPort int
}

// alphabet of a data coding scheme: 0 GSM 7-bit, 1 8-bit, 2 UCS-2.
func alphabet(dcs byte) int {
	switch {
	case dcs&0xC0 == 0x00, dcs&0xC0 == 0x40: // general data coding (compressed is not supported)
		return int(dcs>>2) & 3 % 3
	case dcs&0xF0 == 0xF0:
		return int(dcs>>2) & 1
	case dcs&0xF0 == 0xE0:
		return 2
	}
	return 0
}

// decodeSubmit reads an SMS-SUBMIT TPDU (without the SMSC prefix).
func decodeSubmit(b []byte) (*submit, error) {
	if len(b) < 7 {
		return nil, errors.New("submit truncated")
	}
	fo := b[0]
	if fo&3 != 1 {
		return nil, fmt.Errorf("not an SMS-SUBMIT (MTI %d)", fo&3)
	}
	s := &submit{MR: int(b[1]), SRR: fo&0x20 != 0}
	to, n, err := decodeAddress(b[2:])
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	s.To = to
	i := 2 + n
	if len(b) < i+3 {
		return nil, errors.New("submit truncated after destination")
	}
	s.DCS = b[i+1]
	i += 2
	switch (fo >> 3) & 3 {
	case 2:
		i++
	case 1, 3:
		i += 7
	}
	if len(b) <= i {
		return nil, errors.New("submit truncated before user data length")
	}
	udl := int(b[i])
	ud := b[i+1:]
	udhi := fo&0x40 != 0
	hdrLen := 0
	if udhi {
		if len(ud) < 1 || len(ud) < 1+int(ud[0]) {
			return nil, errors.New("user data header truncated")
		}
		hdrLen = 1 + int(ud[0])
		s.UDH = append([]byte(nil), ud[:hdrLen]...)
		s.parseUDH()
	}
	switch alphabet(s.DCS) {
	case 0:
		fill := 0
		skip := 0
		if hdrLen > 0 {
			skip = (hdrLen*8 + 6) / 7
			fill = skip*7 - hdrLen*8
		}
		if udl < skip {
			return nil, errors.New("user data length shorter than its header")
		}
		if hdrLen > len(ud) {
			return nil, errors.New("user data truncated")
		}
		sept, err := unpack7(ud[hdrLen:], fill, udl-skip)
		if err != nil {
			return nil, err
		}
		s.UD = sept
		s.Text = fromGSM7(sept)
	default:
		if udl > len(ud) || udl < hdrLen {
			return nil, errors.New("user data shorter than its length")
		}
		s.UD = append([]byte(nil), ud[hdrLen:udl]...)
		if alphabet(s.DCS) == 2 {
			s.Text = fromUCS2(s.UD)
		} else {
			s.Text = hex.EncodeToString(s.UD)
		}
	}
	return s, nil
}

func (s *submit) parseUDH() {
	h := s.UDH[1:]
	for len(h) >= 2 {
		id, l := h[0], int(h[1])
		if len(h) < 2+l {
			return
		}
		v := h[2 : 2+l]
		switch {
		case id == 0 && l == 3:
			s.Ref, s.Total, s.Part = int(v[0]), int(v[1]), int(v[2])
		case id == 8 && l == 4:
			s.Ref, s.Total, s.Part = int(v[0])<<8|int(v[1]), int(v[2]), int(v[3])
		case id == 5 && l == 4:
			s.DstPort, s.SrcPort = int(v[0])<<8|int(v[1]), int(v[2])<<8|int(v[3])
		}
		h = h[2+l:]
	}
}

func toUCS2(text string) []byte {
	u := utf16.Encode([]rune(text))
	out := make([]byte, 0, 2*len(u))
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return out
}

func fromUCS2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}

// deliverPart is one SMS-DELIVER the network hands to a modem.
type deliverPart struct {
	TPDU  []byte
	From  string
	Text  string // this part's text, for text-mode listings
	Time  time.Time
	Part  int // 1-based
	Total int
}

// deliverSpec describes a message to cut into SMS-DELIVER parts.
type deliverSpec struct {
	From    string
	Text    string
	UCS2    bool
	Data    []byte // 8-bit data instead of text
	SrcPort int
	DstPort int
	Ref     int
	Time    time.Time
	Class   int // -1 for none, else 0..3
}

// buildDeliver cuts a message into SMS-DELIVER TPDUs, adding concatenation
// (8-bit reference) and port headers as needed.
func buildDeliver(sp deliverSpec) []deliverPart {
	var units [][]byte // per part: septets, UCS-2 octets or data octets
	var texts []string
	alpha := 0
	ports := sp.DstPort != 0 || sp.SrcPort != 0
	portIE := []byte{}
	if ports {
		portIE = []byte{5, 4, byte(sp.DstPort >> 8), byte(sp.DstPort), byte(sp.SrcPort >> 8), byte(sp.SrcPort)}
	}
	switch {
	case sp.Data != nil:
		alpha = 1
		one := 140
		if len(portIE) > 0 {
			one = 140 - 1 - len(portIE)
		}
		units = chunkBytes(sp.Data, one, 140-1-len(portIE)-5)
		for range units {
			texts = append(texts, "")
		}
	default:
		sept, ok := toGSM7(sp.Text)
		if ok && !sp.UCS2 {
			if len(sept) <= 160 {
				units = [][]byte{sept}
			} else {
				for len(sept) > 0 {
					n := min(153, len(sept))
					if sept[n-1] == 0x1b { // never split an escape from its code
						n--
					}
					units = append(units, sept[:n])
					sept = sept[n:]
				}
			}
			for _, u := range units {
				texts = append(texts, fromGSM7(u))
			}
		} else {
			alpha = 2
			u := utf16.Encode([]rune(sp.Text))
			var chunks [][]uint16
			if len(u) <= 70 {
				chunks = [][]uint16{u}
			} else {
				for len(u) > 0 {
					n := min(67, len(u))
					if n < len(u) && u[n-1] >= 0xD800 && u[n-1] < 0xDC00 { // keep surrogate pairs whole
						n--
					}
					chunks = append(chunks, u[:n])
					u = u[n:]
				}
			}
			for _, c := range chunks {
				b := make([]byte, 0, 2*len(c))
				for _, x := range c {
					b = append(b, byte(x>>8), byte(x))
				}
				units = append(units, b)
				texts = append(texts, string(utf16.Decode(c)))
			}
		}
	}
	total := len(units)
	dcs := byte([]byte{0x00, 0x04, 0x08}[alpha])
	if sp.Class >= 0 {
		dcs |= 0x10 | byte(sp.Class&3)
	}
	parts := make([]deliverPart, 0, total)
	for i, u := range units {
		var udh []byte
		if total > 1 {
			udh = append(udh, 0, 3, byte(sp.Ref), byte(total), byte(i+1))
		}
		udh = append(udh, portIE...)
		fo := byte(0x04) // SMS-DELIVER, TP-MMS: no more messages
		if len(udh) > 0 {
			fo |= 0x40
			udh = append([]byte{byte(len(udh))}, udh...)
		}
		tp := []byte{fo}
		tp = append(tp, encodeAddress(sp.From)...)
		tp = append(tp, 0, dcs)
		tp = append(tp, encodeSCTS(sp.Time)...)
		if alpha == 0 {
			skip := 0
			fill := 0
			if len(udh) > 0 {
				skip = (len(udh)*8 + 6) / 7
				fill = skip*7 - len(udh)*8
			}
			tp = append(tp, byte(skip+len(u)))
			tp = append(tp, udh...)
			tp = append(tp, pack7(u, fill)...)
		} else {
			tp = append(tp, byte(len(udh)+len(u)))
			tp = append(tp, udh...)
			tp = append(tp, u...)
		}
		parts = append(parts, deliverPart{TPDU: tp, From: sp.From, Text: texts[i], Time: sp.Time, Part: i + 1, Total: total})
	}
	return parts
}

func chunkBytes(b []byte, one, many int) [][]byte {
	if len(b) <= one {
		return [][]byte{b}
	}
	var out [][]byte
	for len(b) > 0 {
		n := min(many, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// buildStatusReport builds an SMS-STATUS-REPORT TPDU (TS 23.040 §9.2.2.3).
func buildStatusReport(mr int, recipient string, submitted, discharged time.Time, status byte) []byte {
	tp := []byte{0x06, byte(mr)} // MTI=10, TP-MMS set
	tp = append(tp, encodeAddress(recipient)...)
	tp = append(tp, encodeSCTS(submitted)...)
	tp = append(tp, encodeSCTS(discharged)...)
	return append(tp, status)
}

// parseHexPDU reads the hex a client typed after the prompt and splits the
// optional SMSC prefix from the TPDU, checking the TPDU length the command
// announced.
func parseHexPDU(h string, tpduLen int) (tpdu []byte, smsc bool, err error) {
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil {
		return nil, false, fmt.Errorf("pdu is not hex: %w", err)
	}
	if len(b) == 0 {
		return nil, false, errors.New("empty pdu")
	}
	sca := int(b[0])
	switch {
	case len(b) == tpduLen+1+sca:
		return b[1+sca:], sca > 0, nil
	case len(b) == tpduLen: // no SMSC octet at all, as some clients send
		return b, false, nil
	}
	return nil, false, fmt.Errorf("pdu has %d octets, want %d after a %d-octet SMSC", len(b), tpduLen, sca)
}
