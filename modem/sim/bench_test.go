package sim

import (
	"strings"
	"testing"
)

// BenchmarkCommandOverPTY is one AT+CSQ round trip over a real pty: the
// client writes, the sim reads, answers, and the client reads the answer.
func BenchmarkCommandOverPTY(b *testing.B) {
	r := newBenchRig(b)
	for b.Loop() {
		r.c.ok("AT+CSQ")
	}
}

// BenchmarkSendOverPTY is one +CMGS of a 160-character part: prompt, PDU,
// decoding with modem/pdu, recording, answer.
func BenchmarkSendOverPTY(b *testing.B) {
	r := newBenchRig(b)
	tp := submitTPDU("+447700900555", strings.Repeat("x", 160), false)
	for b.Loop() {
		if _, final := r.c.sendPDU(tp); final != "OK" {
			b.Fatal(final)
		}
	}
}

// BenchmarkInbound is the network cutting a 400-character text into three
// SMS-DELIVERs and storing them (no client attached).
func BenchmarkInbound(b *testing.B) {
	n := NewNetwork(NetworkOptions{})
	m, _ := n.AddModem(ModemOptions{SMCapacity: 3})
	text := strings.Repeat("0123456789", 40)
	for b.Loop() {
		if _, err := n.Inbound(m, InboundSMS{From: "+447700900999", Text: text}); err != nil {
			b.Fatal(err)
		}
		m.mu.Lock()
		for _, s := range m.stores {
			clear(s.slots)
		}
		m.mu.Unlock()
	}
}

func newBenchRig(b *testing.B) *rig {
	n := NewNetwork(NetworkOptions{})
	m, err := n.AddModem(ModemOptions{})
	if err != nil {
		b.Fatal(err)
	}
	path, err := m.ServePTY(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	return &rig{net: n, m: m, path: path, c: openPTYClient(b, path)}
}
