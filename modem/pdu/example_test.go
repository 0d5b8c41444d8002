package pdu_test

import (
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/modem/pdu"
)

func ExampleDecodeHex() {
	// What AT+CMGR prints for a received SMS: SMSC prefix, then the TPDU.
	m, err := pdu.DecodeHex("07911614220991F1040B911605935713F200008140806113912304D7F79B0E",
		pdu.DecodeOptions{Direction: pdu.MT, SMSC: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Type, m.Originator, m.SCTS.Format(time.RFC3339), m.Text)
	// Output: DELIVER +61503975312 2018-04-08T16:31:19+08:00 Woot
}

func ExampleSubmit() {
	to, _ := pdu.ParseAddress("+447700900123")
	parts, count, err := pdu.Submit("Hello {world}", pdu.SubmitOptions{To: to, Class: pdu.NoClass})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range parts {
		// AT+CMGS=<len(p.TPDU)>, then p.Hex and Ctrl-Z.
		fmt.Println(len(p.TPDU), p.Hex)
	}
	fmt.Println(count.Encoding, count.Units, count.Parts, count.Remaining)
	// Output:
	// 27 0001000C9144770009103200000FC8329BFD066D50F7B79C4DDEA400
	// gsm7 15 1 145
}

func ExampleCountText() {
	c := pdu.CountText("Don’t panic", pdu.SegmentOptions{})
	fmt.Println(c.Encoding, c.Units, c.PerPart, c.UnicodeForcing)
	// Output: ucs2 11 70 [{’ 3}]
}

func ExampleCollector() {
	from, _ := pdu.ParseAddress("+441234")
	parts, _ := pdu.Deliver("a long message, "+fmt.Sprint(make([]int, 100)), pdu.DeliverOptions{
		From: from, SCTS: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Class: pdu.NoClass, Ref: 7})
	c := pdu.NewCollector(10*time.Minute, nil)
	for i := len(parts) - 1; i >= 0; i-- { // out of order
		m, _ := pdu.Decode(parts[i].TPDU, pdu.DecodeOptions{Direction: pdu.MT})
		if j, _ := c.Add(m); j != nil {
			fmt.Println(j.Parts, j.Complete, len(j.Text))
		}
	}
	// Output: 2 true 217
}
