package pdu

import "fmt"

// Information element identifiers of the user data header (TS 23.040
// §9.2.3.24) that this package interprets. Every other element is kept as
// it came.
const (
	IEConcat8        byte = 0x00 // concatenated short message, 8-bit reference
	IEPorts8         byte = 0x04 // application port addressing, 8-bit ports
	IEPorts16        byte = 0x05 // application port addressing, 16-bit ports
	IEConcat16       byte = 0x08 // concatenated short message, 16-bit reference
	IENationalSingle byte = 0x24 // national language single shift (hex 24, not decimal)
	IENationalLock   byte = 0x25 // national language locking shift (hex 25, not decimal)
)

// IE is one information element of a user data header.
type IE struct {
	ID   byte
	Data []byte
}

// UDH is a user data header: its elements in order. Unknown elements are
// preserved byte for byte.
type UDH []IE

// Concat describes a part of a concatenated message.
type Concat struct {
	Ref   uint16
	Total int
	Seq   int
	// Ref16 is set when the reference is 16 bits wide (IE 0x08).
	Ref16 bool
}

// Ports is application port addressing (IE 0x04 or 0x05).
type Ports struct {
	Source, Destination int
	// Wide is set for 16-bit ports (IE 0x05).
	Wide bool
}

// Len is the encoded length of the header in octets, including the UDHL
// octet; 0 for an empty header.
func (h UDH) Len() int {
	if len(h) == 0 {
		return 0
	}
	n := 1
	for _, ie := range h {
		n += 2 + len(ie.Data)
	}
	return n
}

// appendTo appends UDHL and the elements.
func (h UDH) appendTo(b []byte) []byte {
	if len(h) == 0 {
		return b
	}
	b = append(b, byte(h.Len()-1))
	for _, ie := range h {
		b = append(b, ie.ID, byte(len(ie.Data)))
		b = append(b, ie.Data...)
	}
	return b
}

// Bytes is the encoded header including the UDHL octet.
func (h UDH) Bytes() []byte { return h.appendTo(make([]byte, 0, h.Len())) }

// Get returns the last element with the given id (TS 23.040 says the last
// occurrence wins when an element is repeated).
func (h UDH) Get(id byte) (IE, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].ID == id {
			return h[i], true
		}
	}
	return IE{}, false
}

// Concat returns the concatenation element (0x00 or 0x08) when present and
// well formed.
func (h UDH) Concat() (Concat, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		ie := h[i]
		switch {
		case ie.ID == IEConcat8 && len(ie.Data) == 3:
			return Concat{Ref: uint16(ie.Data[0]), Total: int(ie.Data[1]), Seq: int(ie.Data[2])}, true
		case ie.ID == IEConcat16 && len(ie.Data) == 4:
			return Concat{Ref: uint16(ie.Data[0])<<8 | uint16(ie.Data[1]), Total: int(ie.Data[2]), Seq: int(ie.Data[3]), Ref16: true}, true
		}
	}
	return Concat{}, false
}

// Ports returns the application port addressing when present.
func (h UDH) Ports() (Ports, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		ie := h[i]
		switch {
		case ie.ID == IEPorts8 && len(ie.Data) == 2:
			return Ports{Destination: int(ie.Data[0]), Source: int(ie.Data[1])}, true
		case ie.ID == IEPorts16 && len(ie.Data) == 4:
			return Ports{
				Destination: int(ie.Data[0])<<8 | int(ie.Data[1]),
				Source:      int(ie.Data[2])<<8 | int(ie.Data[3]),
				Wide:        true,
			}, true
		}
	}
	return Ports{}, false
}

// National returns the national language locking and single shift tables
// named by elements 0x25 and 0x24 (LanguageDefault for an absent one); ok
// is false when neither is present.
func (h UDH) National() (locking, single Language, ok bool) {
	if ie, found := h.Get(IENationalLock); found && len(ie.Data) == 1 {
		locking, ok = Language(ie.Data[0]), true
	}
	if ie, found := h.Get(IENationalSingle); found && len(ie.Data) == 1 {
		single, ok = Language(ie.Data[0]), true
	}
	return locking, single, ok
}

// ConcatIE builds a concatenation element: 8-bit reference (0x00) unless
// ref16.
func ConcatIE(c Concat) IE {
	if c.Ref16 {
		return IE{ID: IEConcat16, Data: []byte{byte(c.Ref >> 8), byte(c.Ref), byte(c.Total), byte(c.Seq)}}
	}
	return IE{ID: IEConcat8, Data: []byte{byte(c.Ref), byte(c.Total), byte(c.Seq)}}
}

// PortsIE builds a port addressing element: 16-bit (0x05) when p.Wide or a
// port does not fit in 8 bits.
func PortsIE(p Ports) IE {
	if p.Wide || p.Source > 255 || p.Destination > 255 {
		return IE{ID: IEPorts16, Data: []byte{byte(p.Destination >> 8), byte(p.Destination), byte(p.Source >> 8), byte(p.Source)}}
	}
	return IE{ID: IEPorts8, Data: []byte{byte(p.Destination), byte(p.Source)}}
}

// parseUDH parses the header at the start of ud (ud[0] is UDHL). It returns
// the header and the number of octets it occupies including UDHL. off is the
// offset of ud in the TPDU, for errors. The elements' Data point into ud,
// which the caller owns.
func parseUDH(ud []byte, off int) (UDH, int, error) {
	if len(ud) == 0 {
		return nil, 0, &DecodeError{Field: "udhl", Offset: off, Err: ErrUnderflow}
	}
	l := int(ud[0])
	if 1+l > len(ud) {
		return nil, 0, &DecodeError{Field: "udh", Offset: off, Err: fmt.Errorf("%w: header length %d, %d octets left", ErrUnderflow, l, len(ud)-1)}
	}
	// Count first so the header is one allocation plus one for the data.
	n := 0
	for i := 1; i < 1+l; {
		if i+1 >= 1+l {
			return nil, 0, &DecodeError{Field: "udh.ie", Offset: off + i, Err: ErrUnderflow}
		}
		il := int(ud[i+1])
		if i+2+il > 1+l {
			return nil, 0, &DecodeError{Field: "udh.ie", Offset: off + i, Err: fmt.Errorf("%w: element 0x%02x length %d overruns the header", ErrUnderflow, ud[i], il)}
		}
		i += 2 + il
		n++
	}
	h := make(UDH, 0, n)
	data := ud[1 : 1+l]
	for i := 0; i < l; {
		il := int(data[i+1])
		h = append(h, IE{ID: data[i], Data: data[i+2 : i+2+il : i+2+il]})
		i += 2 + il
	}
	return h, 1 + l, nil
}
