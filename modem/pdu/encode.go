package pdu

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"
)

// appendBCD writes digits as swapped semi-octets with an F filler.
func appendBCD(dst []byte, digits string) ([]byte, error) {
	var half byte
	for i := 0; i < len(digits); i++ {
		v := strings.IndexByte(digitChars, lower(digits[i]))
		if v < 0 {
			return dst, fmt.Errorf("%w: %q is not a digit, '*', '#', 'a', 'b' or 'c'", ErrInvalid, digits[i])
		}
		if i%2 == 0 {
			half = byte(v)
		} else {
			dst = append(dst, half|byte(v)<<4)
		}
	}
	if len(digits)%2 == 1 {
		dst = append(dst, half|0xF0)
	}
	return dst, nil
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// appendAddress writes a TP address (length in semi-octets).
func appendAddress(dst []byte, a Address, field string) ([]byte, error) {
	if a.TON == TONAlphanumeric {
		cs, _ := newCharset(LanguageDefault, LanguageDefault)
		septets, _, ok := cs.encode(make([]byte, 0, 11), a.Digits)
		if !ok {
			return dst, fmt.Errorf("pdu: encode %s: %w: alphanumeric address %q", field, ErrEncoding, a.Digits)
		}
		if len(septets) > 11 {
			return dst, fmt.Errorf("pdu: encode %s: %w: alphanumeric address longer than 11 septets", field, ErrInvalid)
		}
		return appendAlpha(dst, septets, a.toa()), nil
	}
	if len(a.Digits) > 20 {
		return dst, fmt.Errorf("pdu: encode %s: %w: %d digits (at most 20)", field, ErrInvalid, len(a.Digits))
	}
	dst = append(dst, byte(len(a.Digits)), a.toa())
	dst, err := appendBCD(dst, a.Digits)
	if err != nil {
		return dst, fmt.Errorf("pdu: encode %s: %w", field, err)
	}
	return dst, nil
}

// appendAlpha writes an alphanumeric address in the first shape that
// alphaSeptets reads back as the same name: the honest length; one
// semi-octet more with a zero pad octet (an 8-character name ending in '@',
// or 2, 9, 10 characters ending in '_', which the honest length makes look
// padded); or V20's shape, a '_' septet counted in whole octets, which the
// reader drops (3 characters ending in '_'). An 11-character name ending in
// '_' fits none within 20 semi-octets and loses its '_', as it would from
// any sender.
func appendAlpha(dst, septets []byte, toa byte) []byte {
	honest := (len(septets)*7 + 3) / 4
	padded := append(septets[:len(septets):len(septets)], 0x11)
	shapes := []struct {
		l       int
		septets []byte
	}{
		{honest, septets},
		{honest + 1, septets},
		{(len(padded)*7 + 7) / 8 * 2, padded},
	}
	for _, sh := range shapes {
		if sh.l > 20 {
			continue
		}
		packed := pack7(make([]byte, 0, (sh.l+1)/2), sh.septets, 0)
		for len(packed) < (sh.l+1)/2 {
			packed = append(packed, 0)
		}
		if bytes.Equal(alphaSeptets(sh.l, packed), septets) {
			return append(append(dst, byte(sh.l), toa), packed...)
		}
	}
	dst = append(dst, byte(honest), toa)
	return pack7(dst, septets, 0)
}

// SMSCOctets is the SMSC prefix as AT+CMGS expects it: "00" for the zero
// address (use the SIM's default).
func SMSCOctets(a Address) ([]byte, error) {
	if a.IsZero() {
		return []byte{0}, nil
	}
	if a.TON == TONAlphanumeric {
		return nil, fmt.Errorf("pdu: encode smsc: %w: an SMSC address must be a number", ErrInvalid)
	}
	if len(a.Digits) > 20 {
		return nil, fmt.Errorf("pdu: encode smsc: %w: %d digits", ErrInvalid, len(a.Digits))
	}
	b := []byte{byte(1 + (len(a.Digits)+1)/2), a.toa()}
	b, err := appendBCD(b, a.Digits)
	if err != nil {
		return nil, fmt.Errorf("pdu: encode smsc: %w", err)
	}
	return b, nil
}

// WithSMSC prefixes a TPDU with the SMSC address octets and returns it in
// hex as AT+CMGS takes it, and the TPDU length n for "AT+CMGS=<n>". A zero
// smsc (or one that cannot be encoded) gives the prefix "00": use the SIM's
// default service centre. Call SMSCOctets first to see an error instead.
func WithSMSC(smsc Address, tpdu []byte) (hexPDU string, tpduLen int) {
	pre, err := SMSCOctets(smsc)
	if err != nil {
		pre = []byte{0}
	}
	buf := make([]byte, 0, 2*(len(pre)+len(tpdu)))
	buf = hex.AppendEncode(buf, pre)
	buf = hex.AppendEncode(buf, tpdu)
	return strings.ToUpper(string(buf)), len(tpdu)
}

// dcsFor builds a data coding scheme from an encoding and a class (-1 for
// none) in the general coding group.
func dcsFor(e Encoding, class int) byte {
	var c byte
	switch e {
	case EightBit:
		c = 0x04
	case UCS2:
		c = 0x08
	}
	if class >= 0 && class <= 3 {
		c |= 0x10 | byte(class)
	}
	return c
}

// encodingOf reads the alphabet a DCS names (false when it is compressed
// or reserved).
func encodingOf(dcs byte) (Encoding, bool) {
	m := Message{DCS: dcs}
	d := decoder{m: &m}
	if err := d.dcs(0); err != nil {
		return 0, false
	}
	return m.Encoding, true
}

// appendUserData writes TP-UDL and TP-UD.
func appendUserData(dst []byte, m *Message, enc Encoding) ([]byte, error) {
	hdr := m.UDH.Len()
	switch enc {
	case GSM7:
		septets, spare := m.Data, m.SpareBits
		if septets == nil && m.Text != "" {
			lock, single, _ := m.UDH.National()
			cs, ok := newCharset(lock, single)
			if !ok {
				return dst, fmt.Errorf("pdu: encode ud: %w: national tables locking %v, single %v are not defined", ErrInvalid, lock, single)
			}
			var at int
			spare = 0
			septets, at, ok = cs.encode(make([]byte, 0, len(m.Text)+8), m.Text)
			if !ok {
				return dst, fmt.Errorf("pdu: encode ud: %w: character %d (%q) is not in the GSM 7-bit tables", ErrEncoding, at, []rune(m.Text)[at])
			}
		}
		hs := (hdr*8 + 6) / 7
		udl := hs + len(septets)
		if udl > 160 {
			return dst, fmt.Errorf("pdu: encode ud: %w: %d septets exceed 160", ErrInvalid, udl)
		}
		dst = append(dst, byte(udl))
		dst = m.UDH.appendTo(dst)
		dst = pack7(dst, septets, hs*7-hdr*8)
		if bits := hs*7 + 7*len(septets); bits%8 != 0 {
			dst[len(dst)-1] |= spare << (bits % 8)
		}
		return dst, nil
	case UCS2:
		data := m.Data
		if data == nil && m.Text != "" {
			data = appendUTF16(make([]byte, 0, 2*len(m.Text)), m.Text)
		}
		return appendOctets(dst, m.UDH, hdr, data)
	default:
		return appendOctets(dst, m.UDH, hdr, m.Data)
	}
}

func appendOctets(dst []byte, h UDH, hdr int, data []byte) ([]byte, error) {
	udl := hdr + len(data)
	if udl > 140 {
		return dst, fmt.Errorf("pdu: encode ud: %w: %d octets exceed 140", ErrInvalid, udl)
	}
	dst = append(dst, byte(udl))
	dst = h.appendTo(dst)
	return append(dst, data...), nil
}

// appendUTF16 writes s as UTF-16BE, characters beyond the BMP as surrogate
// pairs.
func appendUTF16(dst []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = append(dst, byte(r1>>8), byte(r1), byte(r2>>8), byte(r2))
			continue
		}
		dst = append(dst, byte(r>>8), byte(r))
	}
	return dst
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// Encode builds the TPDU (without SMSC prefix) of an SMS-SUBMIT, SMS-DELIVER
// or SMS-STATUS-REPORT. The first octet comes from the flags (FirstOctet is
// ignored) and UDHI from whether UDH has elements. DCS is written as it is
// when not 0 (its alphabet is then the one used); otherwise it is built from
// Encoding and Class — and Class 0 means a flash message, so set NoClass
// when building a Message by hand. The user data is Data when not nil
// (septets for gsm7), else Text; 7-bit text is written with the national
// tables the header names.
func Encode(m *Message) ([]byte, error) {
	for _, ie := range m.UDH {
		if len(ie.Data) > 255 {
			return nil, fmt.Errorf("pdu: encode udh: %w: element 0x%02X has %d octets", ErrInvalid, ie.ID, len(ie.Data))
		}
	}
	if n := m.UDH.Len(); n > 140 {
		return nil, fmt.Errorf("pdu: encode udh: %w: header of %d octets", ErrInvalid, n)
	}
	enc, dcs := m.Encoding, m.DCS
	if dcs == 0 {
		dcs = dcsFor(enc, m.Class)
	} else if e, ok := encodingOf(dcs); ok {
		enc = e
	} else {
		return nil, fmt.Errorf("pdu: encode dcs: %w: DCS %02X is compressed or reserved", ErrUnsupported, dcs)
	}
	udhi := b2i(len(m.UDH) > 0) << 6
	b := make([]byte, 0, 176)
	var err error
	switch m.Type {
	case TypeSubmit:
		vpf := m.Validity.Format & 3
		b = append(b, 0x01|b2i(m.RejectDuplicates)<<2|byte(vpf)<<3|b2i(m.StatusReport)<<5|udhi|b2i(m.ReplyPath)<<7, byte(m.MR))
		if b, err = appendAddress(b, m.Destination, "da"); err != nil {
			return nil, err
		}
		b = append(b, m.PID, dcs)
		switch vpf {
		case ValidityRelative:
			b = append(b, relativeOctet(m.Validity.Relative))
		case ValidityAbsolute:
			b = appendTime(b, m.Validity.Absolute)
		case ValidityEnhanced:
			b = append(b, m.Validity.Enhanced[:]...)
		}
	case TypeDeliver:
		b = append(b, b2i(!m.MoreMessages)<<2|b2i(m.LoopPrevention)<<3|b2i(m.StatusReport)<<5|udhi|b2i(m.ReplyPath)<<7)
		if b, err = appendAddress(b, m.Originator, "oa"); err != nil {
			return nil, err
		}
		b = append(b, m.PID, dcs)
		b = appendTime(b, m.SCTS)
	case TypeStatusReport:
		b = append(b, 0x02|b2i(!m.MoreMessages)<<2|b2i(m.LoopPrevention)<<3|b2i(m.StatusReport)<<5|udhi, byte(m.MR))
		if b, err = appendAddress(b, m.Recipient, "ra"); err != nil {
			return nil, err
		}
		b = appendTime(b, m.SCTS)
		b = appendTime(b, m.Discharge)
		b = append(b, m.Status)
		hasUD := len(m.UDH) > 0 || m.Text != "" || len(m.Data) > 0
		if !hasUD && m.PID == 0 && m.DCS == 0 {
			return b, nil
		}
		pi := byte(0x03)
		if hasUD {
			pi |= 0x04
		}
		b = append(b, pi, m.PID, dcs)
		if !hasUD {
			return b, nil
		}
	default:
		return nil, fmt.Errorf("pdu: encode: %w: cannot encode an SMS-%v", ErrUnsupported, m.Type)
	}
	return appendUserData(b, m, enc)
}
