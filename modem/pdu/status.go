package pdu

// StatusClass groups TP-ST values (TS 23.040 §9.2.3.15).
type StatusClass int

// The four groups of TP-ST.
const (
	// StatusDelivered: the transaction is complete (bits 6..5 = 00).
	StatusDelivered StatusClass = iota
	// StatusPending: a temporary error, the SC is still trying (01).
	StatusPending
	// StatusFailed: a permanent error, the SC has stopped (10).
	StatusFailed
	// StatusFailedTemporary: a temporary error, but the SC has stopped
	// trying (11).
	StatusFailedTemporary
)

func (c StatusClass) String() string {
	switch c {
	case StatusDelivered:
		return "delivered"
	case StatusPending:
		return "pending"
	case StatusFailed:
		return "failed"
	}
	return "failed-temporary"
}

// Final reports whether the SC will send no further report for the message.
func (c StatusClass) Final() bool { return c != StatusPending }

// ClassifyStatus puts a TP-ST value in its group. Values with bit 7 set are
// reserved; they classify as StatusFailedTemporary (final, like "service
// rejected" 0x63), so a gateway stops waiting rather than waiting forever.
func ClassifyStatus(st byte) StatusClass {
	if st&0x80 != 0 {
		return StatusFailedTemporary
	}
	return StatusClass(st >> 5)
}

var statusWords = map[byte]string{
	0x00: "short message received by the SME",
	0x01: "short message forwarded by the SC to the SME but the SC is unable to confirm delivery",
	0x02: "short message replaced by the SC",
	0x20: "congestion, SC still trying",
	0x21: "SME busy, SC still trying",
	0x22: "no response from SME, SC still trying",
	0x23: "service rejected, SC still trying",
	0x24: "quality of service not available, SC still trying",
	0x25: "error in SME, SC still trying",
	0x40: "remote procedure error",
	0x41: "incompatible destination",
	0x42: "connection rejected by SME",
	0x43: "not obtainable",
	0x44: "quality of service not available",
	0x45: "no interworking available",
	0x46: "SM validity period expired",
	0x47: "SM deleted by originating SME",
	0x48: "SM deleted by SC administration",
	0x49: "SM does not exist",
	0x60: "congestion, SC no longer trying",
	0x61: "SME busy, SC no longer trying",
	0x62: "no response from SME, SC no longer trying",
	0x63: "service rejected, SC no longer trying",
	0x64: "quality of service not available, SC no longer trying",
	0x65: "error in SME, SC no longer trying",
}

// StatusText describes TP-ST in words, whether it is final (delivered, or
// failed for good; false while the SC still tries), and ok false for a
// reserved value (described by its group). SC-specific values
// (0x10..0x1F, 0x30..0x3F, 0x50..0x5F, 0x70..0x7F) are ok and named so.
func StatusText(st byte) (meaning string, final bool, ok bool) {
	cl := ClassifyStatus(st)
	if w, found := statusWords[st]; found {
		return w, cl.Final(), true
	}
	if st < 0x80 && st&0x10 != 0 {
		return "SC-specific status (" + cl.String() + ")", cl.Final(), true
	}
	if st&0x80 != 0 {
		return "reserved status, treated as a final failure", true, false
	}
	return "reserved status (" + cl.String() + ")", cl.Final(), false
}
