package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/pdu"
)

// TestDeliversDecodeWithThePDUCodec checks the sim's own SMS-DELIVER and
// STATUS-REPORT encoder against modem/pdu: two independent implementations
// that must agree on every field a gateway reads.
func TestDeliversDecodeWithThePDUCodec(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 45, 0, time.FixedZone("", 3600))
	cases := []deliverSpec{
		{From: "+447700900999", Text: "hello", Class: -1},
		{From: "MyBank", Text: "code 1234 [ok] 5€", Class: -1},
		{From: "07700900999", Text: "flash", Class: 0},
		{From: "+447700900999", Text: "emoji 😀 and Ω", Class: -1},
		{From: "+447700900999", Text: strings.Repeat("long gsm text ", 30), Class: -1, Ref: 7},
		{From: "+447700900999", Text: strings.Repeat("долгий текст ", 20), Class: -1, Ref: 200},
		{From: "+447700900999", Text: strings.Repeat("😀", 40), Class: -1, Ref: 9},
		{From: "+447700900999", Data: []byte{1, 6, 3, 0xae, 0x81, 0xea}, SrcPort: 9200, DstPort: 2948, Class: -1},
	}
	for i, sp := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			sp.Time = at
			parts := buildDeliver(sp)
			var text string
			for _, p := range parts {
				msg, err := pdu.Decode(append(encodeSCA("+447700900001"), p.TPDU...), pdu.DecodeOptions{Direction: pdu.MT, SMSC: true, Strict: true})
				if err != nil {
					t.Fatalf("part %d %X: %v", p.Part, p.TPDU, err)
				}
				if msg.Type != pdu.TypeDeliver || msg.Originator.String() != sp.From || !msg.SCTS.Equal(at) || msg.Class != sp.Class {
					t.Fatalf("part %d: type %v from %q scts %v class %d", p.Part, msg.Type, msg.Originator.String(), msg.SCTS, msg.Class)
				}
				if msg.SMSC.String() != "+447700900001" {
					t.Fatalf("smsc %q", msg.SMSC.String())
				}
				if len(parts) > 1 {
					c, ok := msg.UDH.Concat()
					if !ok || int(c.Ref) != sp.Ref || c.Total != len(parts) || c.Seq != p.Part {
						t.Fatalf("part %d concat %+v", p.Part, c)
					}
				}
				if sp.Data != nil {
					ports, ok := msg.UDH.Ports()
					if !ok || ports.Source != sp.SrcPort || ports.Destination != sp.DstPort || string(msg.Data) != string(sp.Data) {
						t.Fatalf("data part: ports %+v data %X", ports, msg.Data)
					}
				}
				if msg.Text != p.Text {
					t.Fatalf("part %d: pdu reads %q, sim meant %q", p.Part, msg.Text, p.Text)
				}
				text += msg.Text
			}
			if sp.Data == nil && text != sp.Text {
				t.Fatalf("joined %q, want %q", text, sp.Text)
			}
		})
	}
	t.Run("status report", func(t *testing.T) {
		sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		done := sent.Add(time.Minute)
		tp := buildStatusReport(42, "+447700900555", sent, done, 0x41)
		msg, err := pdu.Decode(tp, pdu.DecodeOptions{Direction: pdu.MT, Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if msg.Type != pdu.TypeStatusReport || msg.MR != 42 || msg.Recipient.String() != "+447700900555" || !msg.SCTS.Equal(sent) || !msg.Discharge.Equal(done) || msg.Status != 0x41 {
			t.Fatalf("report %+v", msg)
		}
	})
}
