package pdu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder walks a PDU. Every read checks bounds so that no input can make
// it panic; errors carry the field name and the octet offset.
type decoder struct {
	b      []byte
	off    int
	strict bool
	m      *Message
}

func (d *decoder) warn(format string, args ...any) {
	d.m.Warnings = append(d.m.Warnings, fmt.Sprintf(format, args...))
}

func (d *decoder) octet(field string) (byte, error) {
	if d.off >= len(d.b) {
		return 0, decErr(field, d.off, ErrUnderflow)
	}
	c := d.b[d.off]
	d.off++
	return c, nil
}

func (d *decoder) take(field string, n int) ([]byte, error) {
	if n < 0 || d.off+n > len(d.b) {
		return nil, decErr(field, d.off, fmt.Errorf("%w: need %d octets, %d left", ErrUnderflow, n, len(d.b)-d.off))
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *decoder) time(field string) (time.Time, error) {
	off := d.off
	b, err := d.take(field, 7)
	if err != nil {
		return time.Time{}, err
	}
	t, err := decodeTime(b)
	if err != nil {
		if d.strict {
			return time.Time{}, decErr(field, off, err)
		}
		d.warn("%s at octet %d: %v", field, off, err)
		return time.Time{}, nil
	}
	return t, nil
}

const digitChars = "0123456789*#abc"

// bcdDigits reads semi-octet swapped digits; n is the number of digits
// wanted (or -1: all, stopping at a filler F).
func bcdDigits(b []byte, n int) (string, bool) {
	if n < 0 {
		n = 2 * len(b)
	}
	if n > 2*len(b) {
		n = 2 * len(b)
	}
	var arr [24]byte
	buf := arr[:0]
	for i := 0; i < n; i++ {
		v := b[i/2]
		if i%2 == 1 {
			v >>= 4
		}
		v &= 0x0F
		if v == 0x0F {
			// A filler is only allowed at the very end; anything after it
			// is ignored.
			return string(buf), i >= n-1 || allFill(b, i)
		}
		buf = append(buf, digitChars[v])
	}
	return string(buf), true
}

func allFill(b []byte, from int) bool {
	for i := from; i < 2*len(b); i++ {
		v := b[i/2]
		if i%2 == 1 {
			v >>= 4
		}
		if v&0x0F != 0x0F {
			return false
		}
	}
	return true
}

// alphaSeptets unpacks an alphanumeric address of l semi-octets.
// Senders pad the name to whole octets and count the padding in the
// length. Rounding 7n bits up to whole octets adds a phantom septet of zero
// bits ('@') only where the octets hold one septet more than the name, i.e.
// 7 characters in 14 semi-octets that leave no spare bit; one operator pads
// with 0x11 instead (V20: "O2" sent as 6 semi-octets, 3 septets and 3 spare
// bits). So a trailing '@' is dropped only when the length leaves no spare
// bit, a trailing '_' only when it does. An honest length never has a
// phantom: "A@" (4 semi-octets) keeps its '@'. appendAddress writes every
// name so that this reads it back, but an 11-character one ending in '_'.
func alphaSeptets(l int, raw []byte) []byte {
	n := l * 4 / 7
	septets := unpack7(make([]byte, 0, n), raw, 0, n)
	if l%2 == 0 && len(septets) > 1 {
		last, spare := septets[len(septets)-1], (l*4)%7
		if last == 0x00 && spare == 0 || last == 0x11 && spare != 0 {
			septets = septets[:len(septets)-1]
		}
	}
	return septets
}

// addrField names the parts of an address field in errors; constants so
// that decoding builds no strings.
type addrField struct{ name, length, toa, digits string }

var (
	fieldOA = addrField{"oa", "oa.length", "oa.toa", "oa.digits"}
	fieldDA = addrField{"da", "da.length", "da.toa", "da.digits"}
	fieldRA = addrField{"ra", "ra.length", "ra.toa", "ra.digits"}
)

// address reads a TP address: length in semi-octets (digits), type of
// address, digits (TS 23.040 §9.1.2.5).
func (d *decoder) address(f addrField) (Address, error) {
	field := f.name
	off := d.off
	l, err := d.octet(f.length)
	if err != nil {
		return Address{}, err
	}
	toa, err := d.octet(f.toa)
	if err != nil {
		return Address{}, err
	}
	if l > 20 && d.strict {
		return Address{}, decErr(f.length, off, fmt.Errorf("%w: %d digits (at most 20)", ErrInvalid, l))
	}
	raw, err := d.take(f.digits, (int(l)+1)/2)
	if err != nil {
		return Address{}, err
	}
	a := Address{TON: TON(toa>>4) & 7, NPI: NPI(toa & 15)}
	if a.TON == TONAlphanumeric {
		septets := alphaSeptets(int(l), raw)
		cs, _ := newCharset(LanguageDefault, LanguageDefault)
		a.Digits = cs.decode(septets)
		return a, nil
	}
	digits, ok := bcdDigits(raw, int(l))
	if !ok {
		if d.strict {
			return Address{}, decErr(f.digits, off+2, fmt.Errorf("%w: filler before the last digit", ErrInvalid))
		}
		d.warn("%s at octet %d: filler before the last digit", field, off+2)
	}
	a.Digits = digits
	return a, nil
}

// smsc reads the SMSC prefix: length in octets (type of address included),
// type of address, digits.
func (d *decoder) smsc() (Address, error) {
	off := d.off
	l, err := d.octet("smsc.length")
	if err != nil {
		return Address{}, err
	}
	if l == 0 {
		return Address{}, nil
	}
	if l > 12 && d.strict {
		return Address{}, decErr("smsc.length", off, fmt.Errorf("%w: %d octets (at most 12)", ErrInvalid, l))
	}
	toa, err := d.octet("smsc.toa")
	if err != nil {
		return Address{}, err
	}
	raw, err := d.take("smsc.digits", int(l)-1)
	if err != nil {
		return Address{}, err
	}
	a := Address{TON: TON(toa>>4) & 7, NPI: NPI(toa & 15)}
	if a.TON == TONAlphanumeric {
		n := len(raw) * 8 / 7
		cs, _ := newCharset(LanguageDefault, LanguageDefault)
		a.Digits = cs.decode(unpack7(make([]byte, 0, n), raw, 0, n))
		return a, nil
	}
	digits, ok := bcdDigits(raw, -1)
	if !ok {
		d.warn("smsc at octet %d: filler before the last digit", off+2)
	}
	a.Digits = digits
	return a, nil
}

// dcs interprets the data coding scheme (TS 23.038 §4).
func (d *decoder) dcs(off int) error {
	m := d.m
	c := m.DCS
	switch {
	case c&0x80 == 0: // 00xx xxxx general, 01xx xxxx automatic deletion
		if c&0x20 != 0 {
			return decErr("dcs", off, fmt.Errorf("%w: DCS %02X says the text is compressed (TS 23.042)", ErrUnsupported, c))
		}
		switch (c >> 2) & 3 {
		case 0:
			m.Encoding = GSM7
		case 1:
			m.Encoding = EightBit
		case 2:
			m.Encoding = UCS2
		case 3:
			return decErr("dcs", off, fmt.Errorf("%w: DCS %02X names the reserved alphabet 11", ErrUnsupported, c))
		}
		if c&0x10 != 0 {
			m.Class = int(c & 3)
		}
	case c>>4 == 0x0F: // 1111 data coding / message class
		m.Class = int(c & 3)
		if c&0x04 != 0 {
			m.Encoding = EightBit
		} else {
			m.Encoding = GSM7
		}
	case c>>4 >= 0x0C: // 1100, 1101, 1110 message waiting indication
		m.Waiting = &MessageWaiting{Store: c>>4 != 0x0C, Active: c&0x08 != 0, Kind: int(c & 3)}
		m.Encoding = GSM7
		if c>>4 == 0x0E {
			m.Encoding = UCS2
		}
	default: // 1000..1011
		return decErr("dcs", off, fmt.Errorf("%w: DCS %02X is in the reserved coding group %04b", ErrUnsupported, c, c>>4))
	}
	return nil
}

// readDCS reads TP-DCS into m.DCS and interprets it.
func (d *decoder) readDCS() error {
	off := d.off
	c, err := d.octet("dcs")
	if err != nil {
		return err
	}
	d.m.DCS = c
	return d.dcs(off)
}

// userData reads TP-UDL and TP-UD into m, after m.DCS has been read.
func (d *decoder) userData() error {
	m := d.m
	udlOff := d.off
	udl, err := d.octet("udl")
	if err != nil {
		return err
	}
	udOff := d.off
	ud := d.b[d.off:]
	var need int
	if m.Encoding == GSM7 {
		need = (int(udl)*7 + 7) / 8
	} else {
		need = int(udl)
	}
	if need > 140 {
		if d.strict {
			return decErr("udl", udlOff, fmt.Errorf("%w: %d exceeds 140 octets", ErrInvalid, udl))
		}
		d.warn("udl at octet %d: %d exceeds 140 octets", udlOff, udl)
	}
	if len(ud) < need {
		if d.strict {
			return decErr("ud", udOff, fmt.Errorf("%w: user data length %d needs %d octets, %d left", ErrUnderflow, udl, need, len(ud)))
		}
		d.warn("ud at octet %d: user data length %d needs %d octets, only %d present", udOff, udl, need, len(ud))
	} else {
		ud = ud[:need]
	}
	d.off = udOff + len(ud)

	// One allocation holds the user data as received (the header's
	// elements and 8-bit or UCS-2 Data point into it) and, for 7-bit, room
	// for the unpacked septets after it.
	extra := 0
	if m.Encoding == GSM7 {
		extra = int(udl)
	}
	own := make([]byte, len(ud), len(ud)+extra)
	copy(own, ud)
	ud = own

	hdr := 0 // octets of header including UDHL
	if m.UDHI {
		h, n, err := parseUDH(ud, udOff)
		if err != nil {
			if d.strict {
				return err
			}
			// A broken header: keep the user data as it is, undecoded.
			d.warn("%v; the user data is kept without a header", err)
			m.UDHI = false
		} else {
			m.UDH, hdr = h, n
		}
	}

	switch m.Encoding {
	case GSM7:
		avail := len(ud) * 8 / 7
		n := int(udl)
		if n > avail {
			n = avail
		}
		hs := (hdr*8 + 6) / 7 // header septets, fill bits included
		if hs > n {
			return decErr("udl", udlOff, fmt.Errorf("%w: %d septets cannot hold a %d-octet header", ErrInvalid, udl, hdr))
		}
		septets := unpack7(own[len(own):], ud[hdr:], hs*7-hdr*8, n-hs)
		septets = septets[:len(septets):len(septets)]
		m.Data = septets
		if bits := hdr*8 + (hs*7 - hdr*8) + 7*len(septets); bits%8 != 0 && bits/8 < len(ud) {
			m.SpareBits = ud[bits/8] >> (bits % 8)
		}
		lock, single, _ := m.UDH.National()
		cs, ok := newCharset(lock, single)
		if !ok {
			d.warn("udh names national tables locking %v, single %v that are not defined; the default alphabet is used instead", lock, single)
		}
		m.Text = cs.decode(septets)
	case UCS2:
		b := ud[hdr:]
		if len(b)%2 != 0 {
			d.warn("ud at octet %d: odd number of UCS-2 octets; the last one is dropped", udOff)
		}
		m.Data = b[:len(b):len(b)]
		var lone int
		m.Text, lone = decodeUTF16(b)
		if lone > 0 {
			d.warn("ud at octet %d: %d unpaired surrogate(s) shown as U+FFFD", udOff, lone)
		}
	default:
		m.Data = ud[hdr:len(ud):len(ud)]
	}
	return nil
}

// decodeUTF16 decodes UTF-16BE octets (an odd last octet is ignored); lone
// surrogates become U+FFFD and are counted.
func decodeUTF16(b []byte) (string, int) {
	var arr [256]byte
	buf := arr[:0]
	lone := 0
	n := len(b) / 2
	for i := 0; i < n; i++ {
		u := rune(b[2*i])<<8 | rune(b[2*i+1])
		switch {
		case u < utf8.RuneSelf:
			buf = append(buf, byte(u))
			continue
		case utf16.IsSurrogate(u):
			if u < 0xDC00 && i+1 < n {
				u2 := rune(b[2*i+2])<<8 | rune(b[2*i+3])
				if r := utf16.DecodeRune(u, u2); r != utf8.RuneError {
					buf = utf8.AppendRune(buf, r)
					i++
					continue
				}
			}
			lone++
			u = utf8.RuneError
		}
		buf = utf8.AppendRune(buf, u)
	}
	return string(buf), lone
}

// Decode reads one PDU.
func Decode(b []byte, o DecodeOptions) (*Message, error) {
	m := &Message{Class: -1, FCS: -1, Direction: o.Direction}
	d := &decoder{b: b, strict: o.Strict, m: m}
	if o.SMSC {
		a, err := d.smsc()
		if err != nil {
			return nil, err
		}
		m.SMSC = a
	}
	start := d.off
	fo, err := d.octet("first-octet")
	if err != nil {
		return nil, err
	}
	m.FirstOctet = fo
	m.UDHI = fo&0x40 != 0
	mti := fo & 3
	switch {
	case mti == 3:
		return nil, decErr("first-octet", start, fmt.Errorf("%w: reserved message type indicator 3", ErrInvalid))
	case o.Direction == MT && mti == 0:
		err = d.deliver()
	case o.Direction == MT && mti == 1:
		err = d.report(TypeSubmitReport)
	case o.Direction == MT && mti == 2:
		err = d.statusReport()
	case o.Direction == MO && mti == 0:
		err = d.report(TypeDeliverReport)
	case o.Direction == MO && mti == 1:
		err = d.submit()
	case o.Direction == MO && mti == 2:
		err = d.command()
	default:
		return nil, decErr("direction", 0, fmt.Errorf("%w: direction %v", ErrInvalid, o.Direction))
	}
	if err != nil {
		return nil, err
	}
	if o.Length > 0 && o.Length != len(b)-start {
		if o.Strict {
			return nil, decErr("length", start, fmt.Errorf("%w: declared TPDU length %d, the PDU has %d octets", ErrInvalid, o.Length, len(b)-start))
		}
		d.warn("declared TPDU length %d, the PDU has %d octets", o.Length, len(b)-start)
	}
	if rest := len(b) - d.off; rest > 0 {
		if o.Strict {
			return nil, decErr("end", d.off, fmt.Errorf("%w: %d octets after the last field", ErrTrailing, rest))
		}
		d.warn("%d trailing octet(s) after the last field ignored", rest)
	}
	return m, nil
}

func (d *decoder) deliver() error {
	m := d.m
	m.Type = TypeDeliver
	fo := m.FirstOctet
	m.MoreMessages = fo&0x04 == 0
	m.LoopPrevention = fo&0x08 != 0
	m.StatusReport = fo&0x20 != 0
	m.ReplyPath = fo&0x80 != 0
	var err error
	if m.Originator, err = d.address(fieldOA); err != nil {
		return err
	}
	if m.PID, err = d.octet("pid"); err != nil {
		return err
	}
	if err := d.readDCS(); err != nil {
		return err
	}
	if m.SCTS, err = d.time("scts"); err != nil {
		return err
	}
	return d.userData()
}

func (d *decoder) submit() error {
	m := d.m
	m.Type = TypeSubmit
	fo := m.FirstOctet
	m.RejectDuplicates = fo&0x04 != 0
	m.StatusReport = fo&0x20 != 0
	m.ReplyPath = fo&0x80 != 0
	m.Validity.Format = ValidityFormat(fo>>3) & 3
	mr, err := d.octet("mr")
	if err != nil {
		return err
	}
	m.MR = int(mr)
	if m.Destination, err = d.address(fieldDA); err != nil {
		return err
	}
	if m.PID, err = d.octet("pid"); err != nil {
		return err
	}
	if err := d.readDCS(); err != nil {
		return err
	}
	switch m.Validity.Format {
	case ValidityRelative:
		o, err := d.octet("vp")
		if err != nil {
			return err
		}
		m.Validity.Relative = relativeVP(o)
	case ValidityAbsolute:
		if m.Validity.Absolute, err = d.time("vp"); err != nil {
			return err
		}
	case ValidityEnhanced:
		b, err := d.take("vp", 7)
		if err != nil {
			return err
		}
		copy(m.Validity.Enhanced[:], b)
		if p, _, ok := decodeEnhanced(m.Validity.Enhanced); ok {
			m.Validity.Relative = p
		}
	}
	return d.userData()
}

func (d *decoder) statusReport() error {
	m := d.m
	m.Type = TypeStatusReport
	fo := m.FirstOctet
	m.MoreMessages = fo&0x04 == 0
	m.LoopPrevention = fo&0x08 != 0
	m.StatusReport = fo&0x20 != 0
	mr, err := d.octet("mr")
	if err != nil {
		return err
	}
	m.MR = int(mr)
	if m.Recipient, err = d.address(fieldRA); err != nil {
		return err
	}
	if m.SCTS, err = d.time("scts"); err != nil {
		return err
	}
	if m.Discharge, err = d.time("dt"); err != nil {
		return err
	}
	if m.Status, err = d.octet("st"); err != nil {
		return err
	}
	// The optional part is where SCs are sloppiest; in lenient mode a
	// broken one costs only itself.
	if err := d.optional(); err != nil {
		if d.strict {
			return err
		}
		d.warn("optional fields after the status ignored: %v", err)
		m.PID, m.DCS, m.Encoding, m.Class, m.Waiting, m.UDH, m.UDHI, m.Text, m.Data, m.SpareBits = 0, 0, GSM7, -1, nil, nil, false, "", nil, 0
		d.off = len(d.b)
	}
	return nil
}

// optional reads TP-PI and the optional PID, DCS and user data it
// announces (STATUS-REPORT). Nothing after the mandatory fields is fine.
func (d *decoder) optional() error {
	if d.off >= len(d.b) {
		return nil
	}
	pi, err := d.pi()
	if err != nil {
		return err
	}
	return d.announced(pi)
}

// pi reads TP-PI (TS 23.040 §9.2.3.27) and skips its extension octets
// (bit 7 chains them; they announce nothing defined yet). An all-ones PI is
// returned as 0 with a warning: some SCs pad with FF, and padding is not a
// promise of fields.
func (d *decoder) pi() (byte, error) {
	off := d.off
	pi, err := d.octet("pi")
	if err != nil {
		return 0, err
	}
	d.m.PI = pi
	for p := pi; p&0x80 != 0 && d.off < len(d.b); {
		p, _ = d.octet("pi")
	}
	switch {
	case pi == 0xFF:
		d.warn("pi at octet %d: FF treated as padding", off)
		return 0, nil
	case pi&0x78 != 0:
		// The spec says to ignore reserved bits.
		d.warn("pi at octet %d: reserved bits set in %02X", off, pi)
	}
	return pi, nil
}

// announced reads the optional PID, DCS and user data that pi announces.
// Without a DCS the user data is 7-bit (TS 23.040 §9.2.3.27).
func (d *decoder) announced(pi byte) error {
	m := d.m
	var err error
	if pi&0x01 != 0 {
		if m.PID, err = d.octet("pid"); err != nil {
			return err
		}
	}
	if pi&0x02 != 0 {
		if err := d.readDCS(); err != nil {
			return err
		}
	}
	if pi&0x04 != 0 {
		return d.userData()
	}
	return nil
}

// report reads an SMS-SUBMIT-REPORT or SMS-DELIVER-REPORT (TS 23.040
// §9.2.2.1a, §9.2.2.2a).
func (d *decoder) report(t Type) error {
	m := d.m
	m.Type = t
	// TP-FCS is present only in a report for RP-ERROR; its values are all
	// 0x80..0xFF while TP-PI's bit 7 is a rarely used extension bit, so
	// a high octet here is read as the FCS.
	if d.off < len(d.b) && d.b[d.off] >= 0x80 {
		fcs, _ := d.octet("fcs")
		m.FCS = int(fcs)
	}
	pi, err := d.pi()
	if err != nil {
		return err
	}
	if t == TypeSubmitReport {
		if m.SCTS, err = d.time("scts"); err != nil {
			return err
		}
	}
	return d.announced(pi)
}

func (d *decoder) command() error {
	m := d.m
	m.Type = TypeCommand
	m.StatusReport = m.FirstOctet&0x20 != 0
	mr, err := d.octet("mr")
	if err != nil {
		return err
	}
	m.MR = int(mr)
	if m.PID, err = d.octet("pid"); err != nil {
		return err
	}
	if m.CommandType, err = d.octet("ct"); err != nil {
		return err
	}
	mn, err := d.octet("mn")
	if err != nil {
		return err
	}
	m.MessageNumber = int(mn)
	if m.Destination, err = d.address(fieldDA); err != nil {
		return err
	}
	cdl, err := d.octet("cdl")
	if err != nil {
		return err
	}
	cd, err := d.take("cd", int(cdl))
	if err != nil {
		return err
	}
	m.Data = append([]byte(nil), cd...)
	return nil
}

// DecodeHex reads one PDU written in hex as modems print it. Whitespace is
// ignored; in lenient mode a trailing quote or other garbage, and an odd
// last digit, are dropped with a warning.
func DecodeHex(s string, o DecodeOptions) (*Message, error) {
	if !o.Strict {
		// A quote or spaces before the digits, as some modems print them.
		s = strings.TrimLeft(s, "\" \t\r\n")
	}
	b := make([]byte, 0, len(s)/2)
	var warn string
	half, nibbles := byte(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		default:
			if o.Strict {
				return nil, decErr("hex", len(b), fmt.Errorf("%w: character %s at position %d", ErrInvalid, strconv.QuoteRune(rune(c)), i))
			}
			warn = fmt.Sprintf("hex: ignored %q after %d octets", s[i:], len(b))
			i = len(s)
			continue
		}
		if nibbles%2 == 0 {
			half = v << 4
		} else {
			b = append(b, half|v)
		}
		nibbles++
	}
	if nibbles%2 != 0 {
		if o.Strict {
			return nil, decErr("hex", len(b), fmt.Errorf("%w: odd number of hex digits", ErrInvalid))
		}
		if warn == "" {
			warn = "hex: odd number of digits; the last one is ignored"
		}
	}
	m, err := Decode(b, o)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		m.Warnings = append([]string{warn}, m.Warnings...)
	}
	return m, nil
}
