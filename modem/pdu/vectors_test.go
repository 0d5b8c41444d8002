package pdu

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

const vectorsPath = "testdata/pdu-vectors.json" // a copy of ../shared/testdata/pdu-vectors.json, so a clone tests on its own

type vector struct {
	ID     string         `json:"id"`
	Type   string         `json:"type"`
	SMSC   bool           `json:"smsc"`
	Hex    string         `json:"hex"`
	Expect map[string]any `json:"expect"`
	Notes  string         `json:"notes"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	path := vectorsPath
	if p := os.Getenv("GSMGATE_PDU_VECTORS"); p != "" {
		path = p
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read vectors: %v", err)
	}
	var f struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		tb.Fatalf("parse vectors: %v", err)
	}
	if len(f.Vectors) < 20 {
		tb.Fatalf("only %d vectors", len(f.Vectors))
	}
	return f.Vectors
}

func vectorDirection(typ string) Direction {
	switch typ {
	case "SUBMIT", "DELIVER-REPORT", "COMMAND":
		return MO
	}
	return MT
}

func decodeVector(t *testing.T, v vector) *Message {
	t.Helper()
	m, err := DecodeHex(v.Hex, DecodeOptions{Direction: vectorDirection(v.Type), SMSC: v.SMSC})
	if err != nil {
		t.Fatalf("%s: decode: %v", v.ID, err)
	}
	return m
}

func TestVectorsDecode(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			m := decodeVector(t, v)
			if got := m.Type.String(); got != v.Type {
				t.Errorf("type = %s, want %s", got, v.Type)
			}
			raw, _ := hex.DecodeString(v.Hex)
			smscLen := 0
			if v.SMSC {
				smscLen = 1 + int(raw[0])
			}
			for k, want := range v.Expect {
				var got any
				switch k {
				case "smsc":
					got = m.SMSC.String()
				case "originator":
					got = m.Originator.String()
				case "originator_alphanumeric":
					if m.Originator.TON != TONAlphanumeric {
						t.Errorf("originator TON = %v, want alphanumeric", m.Originator.TON)
					}
					got = m.Originator.String()
				case "originator_ton":
					got = m.Originator.TON.String()
				case "destination":
					got = m.Destination.String()
				case "recipient":
					got = m.Recipient.String()
				case "first_octet":
					got = float64(m.FirstOctet)
				case "mr":
					got = float64(m.MR)
				case "pid":
					got = float64(m.PID)
				case "dcs":
					got = float64(m.DCS)
				case "class":
					got = float64(m.Class)
				case "status":
					got = float64(m.Status)
				case "scts":
					got = m.SCTS.Format(time.RFC3339)
					want = strings.Replace(want.(string), "+00:00", "Z", 1)
				case "discharge":
					got = m.Discharge.Format(time.RFC3339)
				case "udl":
					got = float64(udl(m))
				case "text":
					got = m.Text
				case "text_prefix":
					if !strings.HasPrefix(m.Text, want.(string)) {
						t.Errorf("text %q does not start with %q", m.Text, want)
					}
					continue
				case "tpdu_octets":
					got = float64(len(raw) - smscLen)
				case "concat":
					c, ok := m.UDH.Concat()
					if !ok {
						t.Errorf("no concat element in %v", m.UDH)
						continue
					}
					w := want.(map[string]any)
					if float64(c.Ref) != w["ref"] || float64(c.Total) != w["total"] || float64(c.Seq) != w["seq"] {
						t.Errorf("concat = %+v, want %v", c, w)
					}
					continue
				case "ports":
					p, ok := m.UDH.Ports()
					w := want.(map[string]any)
					if !ok || float64(p.Source) != w["source"] || float64(p.Destination) != w["destination"] {
						t.Errorf("ports = %+v %v, want %v", p, ok, w)
					}
					continue
				case "status_report_indication", "status_report_request":
					got = m.StatusReport
				case "reply_path":
					got = m.ReplyPath
				case "vp_relative_octet":
					if m.Validity.Format != ValidityRelative {
						t.Errorf("validity format = %v, want relative", m.Validity.Format)
					}
					got = float64(m.Validity.RelativeOctet())
				case "vp", "vp_enhanced":
					got = m.Validity.String()
				case "vp_absolute":
					got = m.Validity.Absolute.Format(time.RFC3339)
				default:
					t.Errorf("test does not know expectation %q", k)
					continue
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if m.Encoding == EightBit && m.Text != "" {
				t.Errorf("8-bit data decoded to text %q", m.Text)
			}
		})
	}
}

// udl recomputes TP-UDL from the decoded message, as an independent check
// that header, fill bits and text were all accounted for.
func udl(m *Message) int {
	h := m.UDH.Len()
	if m.Encoding == GSM7 {
		return (h*8+6)/7 + len(m.Data)
	}
	return h + len(m.Data)
}

func TestVectorsReencodeSubmit(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if v.Type != "SUBMIT" {
			continue
		}
		n++
		t.Run(v.ID, func(t *testing.T) {
			m := decodeVector(t, v)
			tpdu, err := Encode(m)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			want := strings.ToUpper(v.Hex)
			got, tlen := WithSMSC(m.SMSC, tpdu)
			if !v.SMSC {
				got = got[2:]
			}
			if got != want {
				t.Errorf("re-encoded\n got %s\nwant %s", got, want)
			}
			if tlen != len(tpdu) {
				t.Errorf("tpdu length %d, want %d", tlen, len(tpdu))
			}
			// And from the text alone, as a caller would build it: the
			// same octets but for the spare bits a phone may have set.
			text := m.Text
			m.Data, m.SpareBits = nil, 0
			tpdu2, err := Encode(m)
			if err != nil {
				t.Fatalf("encode from text: %v", err)
			}
			if len(tpdu2) != len(tpdu) || string(tpdu2[:len(tpdu)-1]) != string(tpdu[:len(tpdu)-1]) {
				t.Errorf("from text\n got %X\nwant %X", tpdu2, tpdu)
			}
			back, err := Decode(tpdu2, DecodeOptions{Direction: MO})
			if err != nil {
				t.Fatalf("decode the re-encoded: %v", err)
			}
			if back.Text != text {
				t.Errorf("from text decodes to %q, want %q", back.Text, text)
			}
		})
	}
	if n < 5 {
		t.Fatalf("only %d SUBMIT vectors", n)
	}
}
