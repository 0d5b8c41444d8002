package sim

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEchoOnAtPowerUpAndATE0(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.write("AT\r")
	if l := r.c.next(); l != "AT" {
		t.Fatalf("first line %q, want the echo AT", l)
	}
	if l := r.c.next(); l != "OK" {
		t.Fatalf("got %q, want OK", l)
	}
	r.c.write("ATE0\r")
	r.c.until(isFinal)
	r.c.write("AT+CGMI\r")
	if l := r.c.next(); l != "gsmgate" {
		t.Fatalf("after ATE0 got %q, want the answer without echo", l)
	}
	r.c.until(isFinal)
	// ATZ restores echo, as a real modem's user profile does.
	r.c.write("ATZ\r")
	r.c.until(isFinal)
	r.c.write("AT\r")
	if l := r.c.next(); l != "AT" {
		t.Fatalf("after ATZ got %q, want echo", l)
	}
}

func TestIdentityCommands(t *testing.T) {
	r := newRig(t, ModemOptions{IMEI: "356938035643809", IMSI: "234150123456789", ICCID: "8944110012345678901", OwnNumber: "+447700900123"})
	cases := []struct{ cmd, want string }{
		{"AT+CGMI", "gsmgate"}, {"AT+GMI", "gsmgate"},
		{"AT+CGMM", "Virtual GSM modem"}, {"AT+GMM", "Virtual GSM modem"},
		{"AT+CGMR", "gsmgate-sim 1.0"}, {"AT+GMR", "gsmgate-sim 1.0"},
		{"AT+CGSN", "356938035643809"}, {"AT+GSN", "356938035643809"},
		{"AT+CIMI", "234150123456789"}, {"AT+CCID", "+CCID: 8944110012345678901"},
		{"AT+CNUM", `+CNUM: ,"+447700900123",145`},
		{"AT+CFUN?", "+CFUN: 1"}, {"AT+CSQ", "+CSQ: 20,99"}, {"AT+COPS?", `+COPS: 0,0,"gsmgate",2`},
		{"AT+CREG?", "+CREG: 0,1"}, {"AT+CEREG?", "+CEREG: 0,1"}, {"AT+CMGF?", "+CMGF: 0"},
		{"AT+CSCA?", `+CSCA: "+447700900001",145`}, {"AT+CSMS=?", "+CSMS: (0,1)"}, {"AT+CSMS?", "+CSMS: 0,1,1,1"},
		{"AT+CSMS=1", "+CSMS: 1,1,1"}, {"AT+CPMS?", `+CPMS: "SM",0,20,"SM",0,20,"SM",0,20`},
		{`AT+CPMS="ME","ME","ME"`, "+CPMS: 0,100,0,100,0,100"}, {"AT+CPMS=?", `+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")`},
		{"AT+CNMI=?", "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"}, {"AT+CNMI?", "+CNMI: 1,0,0,0,0"},
		{"AT+CSCS=?", `+CSCS: ("IRA","GSM","UCS2")`}, {"AT+CMEE=?", "+CMEE: (0-2)"},
		{"AT+CMGL=?", "+CMGL: (0-4)"}, {"AT+CMGD=?", "+CMGD: (),(0-4)"},
	}
	for _, tc := range cases {
		info := r.c.ok(tc.cmd)
		if len(info) != 1 || info[0] != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, info, tc.want)
		}
	}
	if info := r.c.ok("ATI"); !slices.Contains(info, "IMEI: 356938035643809") {
		t.Errorf("ATI = %q", info)
	}
	// Several commands on one line, each answered in turn.
	if info := r.c.ok("AT+CSQ;+CGMI"); !slices.Equal(info, []string{"+CSQ: 20,99", "gsmgate"}) {
		t.Errorf("AT+CSQ;+CGMI = %q", info)
	}
}

func TestCMEEChangesHowErrorsRead(t *testing.T) {
	r := newRig(t, ModemOptions{})
	cases := []struct{ cmee, want string }{
		{"AT+CMEE=0", "ERROR"},
		{"AT+CMEE=1", "+CME ERROR: 3"},
		{"AT+CMEE=2", "+CME ERROR: operation not allowed"},
	}
	for _, tc := range cases {
		r.c.ok(tc.cmee)
		r.c.expect("AT+CPIN=1234", tc.want) // no PIN is asked for: not allowed
	}
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CMGR=1", "+CMS ERROR: 321")
	r.c.expect("AT+NOSUCH", "ERROR")
	r.c.expect("AT+CMEE=7", "+CME ERROR: 50")
}

func TestSIMPINCountsDownToPUK(t *testing.T) {
	r := newRig(t, ModemOptions{PIN: "1234", PUK: "87654321"})
	r.c.ok("AT+CMEE=1")
	if info := r.c.ok("AT+CPIN?"); info[0] != "+CPIN: SIM PIN" {
		t.Fatalf("CPIN? = %q", info)
	}
	r.c.expect("AT+CMGL=4", "+CMS ERROR: 311")
	r.c.expect("AT+CIMI", "+CME ERROR: 11")
	for range 3 {
		r.c.expect("AT+CPIN=0000", "+CME ERROR: 16")
	}
	if info := r.c.ok("AT+CPIN?"); info[0] != "+CPIN: SIM PUK" {
		t.Fatalf("after three wrong PINs CPIN? = %q", info)
	}
	r.c.expect("AT+CMGL=4", "+CMS ERROR: 316")
	r.c.expect(`AT+CPIN="11111111","4321"`, "+CME ERROR: 16")
	r.c.ok(`AT+CPIN="87654321","4321"`)
	if info := r.c.ok("AT+CPIN?"); info[0] != "+CPIN: READY" {
		t.Fatalf("after PUK CPIN? = %q", info)
	}
	r.c.ok("AT+CMGL=4")
}

func TestSIMPINUnlocks(t *testing.T) {
	r := newRig(t, ModemOptions{PIN: "1234"})
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CPIN=1111", "+CME ERROR: 16")
	r.c.ok("AT+CPIN=1234")
	r.c.ok("AT+CIMI")
}

func TestNoSIM(t *testing.T) {
	r := newRig(t, ModemOptions{NoSIM: true})
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CPIN?", "+CME ERROR: 10")
	r.c.expect("AT+CIMI", "+CME ERROR: 10")
	r.c.expect("AT+CMGS=20", "+CMS ERROR: 310")
	if info := r.c.ok("AT+CREG?"); info[0] != "+CREG: 0,0" {
		t.Errorf("CREG? = %q", info)
	}
}

func TestNetworkRegistration(t *testing.T) {
	r := newRig(t, ModemOptions{NoNetwork: true})
	r.c.ok("AT+CMEE=1")
	if info := r.c.ok("AT+CREG?"); info[0] != "+CREG: 0,2" {
		t.Errorf("unregistered CREG? = %q", info)
	}
	if info := r.c.ok("AT+CSQ"); info[0] != "+CSQ: 99,99" {
		t.Errorf("unregistered CSQ = %q", info)
	}
	if info := r.c.ok("AT+COPS?"); info[0] != "+COPS: 0" {
		t.Errorf("unregistered COPS? = %q", info)
	}
	_, final := r.c.sendPDU(submitTPDU("+447700900555", "hi", false))
	if final != "+CMS ERROR: 331" {
		t.Errorf("send without network: %q, want +CMS ERROR: 331", final)
	}
	r.c.ok("AT+CREG=2")
	r.c.ok("AT+CEREG=1")
	r.m.SetNetwork(true)
	if l := r.c.waitLine("+CREG:"); l != `+CREG: 1,"00A1","0B2C"` {
		t.Errorf("URC %q", l)
	}
	if l := r.c.waitLine("+CEREG:"); l != "+CEREG: 1" {
		t.Errorf("URC %q", l)
	}
	if info := r.c.ok("AT+CREG?"); info[0] != `+CREG: 2,1,"00A1","0B2C"` {
		t.Errorf("CREG? = %q", info)
	}
	// Radio off and on.
	r.c.ok("AT+CFUN=0")
	if l := r.c.waitLine("+CREG:"); l != "+CREG: 0" {
		t.Errorf("radio off URC %q", l)
	}
	r.c.ok("AT+CFUN=1")
}

func TestUSSDBalance(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok(`AT+CUSD=1,"*100#",15`)
	if l := r.c.waitLine("+CUSD:"); l != `+CUSD: 0,"Your balance is 12.34 GBP.",15` {
		t.Errorf("USSD answer %q", l)
	}
}

func TestSendPDUAndMRWrapsAt255(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("ATE0")
	for i := range 257 {
		info, final := r.c.sendPDU(submitTPDU("+447700900555", fmt.Sprintf("msg %d", i), false))
		if final != "OK" {
			t.Fatalf("send %d: %q %q", i, info, final)
		}
		if want := fmt.Sprintf("+CMGS: %d", i%256); len(info) != 1 || info[0] != want {
			t.Fatalf("send %d: %q, want %s", i, info, want)
		}
	}
	sent := r.net.Sent()
	if len(sent) != 257 || sent[255].MR != 255 || sent[256].MR != 0 || sent[256].Text != "msg 256" || sent[0].To != "+447700900555" {
		t.Fatalf("sent: %d parts, last %+v", len(sent), sent[len(sent)-1])
	}
}

func TestSendCancelAndBadPDU(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CMEE=1")
	r.c.write("AT+CMGS=20\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("0011\x1b")
	if l := r.c.waitLine("OK"); l != "OK" {
		t.Fatal(l)
	}
	// Wrong length announced.
	r.c.write("AT+CMGS=99\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("00" + hex.EncodeToString(submitTPDU("+447700900555", "x", false)) + "\x1a")
	if l := r.c.until(isFinal); l[len(l)-1] != "+CMS ERROR: 304" {
		t.Fatalf("bad length: %q", l)
	}
	// Not hex.
	r.c.write("AT+CMGS=10\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("zz\x1a")
	if l := r.c.until(isFinal); l[len(l)-1] != "+CMS ERROR: 304" {
		t.Fatalf("not hex: %q", l)
	}
	if len(r.net.Sent()) != 0 {
		t.Fatal("a cancelled or bad send reached the network")
	}
}

func TestStatusReports(t *testing.T) {
	cases := []struct {
		name    string
		cnmi    string
		outcome ReportOutcome
		want    []byte // TP-ST of each report, in order
	}{
		{"delivered as +CDS", "AT+CNMI=2,1,0,1,0", ReportOutcome{Kind: Delivered, Delay: time.Minute}, []byte{0x00}},
		{"temporary then delivered as +CDS", "AT+CNMI=2,1,0,1,0", ReportOutcome{Kind: TemporaryThenDelivered, Delay: time.Minute}, []byte{0x21, 0x00}},
		{"permanent failure as +CDS", "AT+CNMI=2,1,0,1,0", ReportOutcome{Kind: PermanentFailure, Delay: time.Minute}, []byte{0x41}},
		{"delivered stored with +CDSI", "AT+CNMI=2,1,0,2,0", ReportOutcome{Kind: Delivered, Delay: time.Minute}, []byte{0x00}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, ModemOptions{})
			r.c.ok(tc.cnmi)
			r.net.SetReportOutcome(tc.outcome)
			info, final := r.c.sendPDU(submitTPDU("+447700900555", "report me", true))
			if final != "OK" {
				t.Fatalf("send: %q %q", info, final)
			}
			for _, st := range tc.want {
				r.net.Advance(time.Minute)
				var pduHex string
				if strings.Contains(tc.cnmi, ",2,0") {
					l := r.c.waitLine("+CDSI:")
					if l != `+CDSI: "SM",1` {
						t.Fatalf("URC %q", l)
					}
					got := r.c.ok("AT+CMGR=1")
					if len(got) != 2 || !strings.HasPrefix(got[0], "+CMGR: 0,,") {
						t.Fatalf("CMGR of report = %q", got)
					}
					pduHex = got[1]
				} else {
					r.c.waitLine("+CDS:")
					pduHex = r.c.next()
				}
				b, err := hex.DecodeString(pduHex)
				if err != nil {
					t.Fatal(err)
				}
				tp := b[1+int(b[0]):]
				if tp[0]&3 != 2 || tp[1] != 0 || tp[len(tp)-1] != st {
					t.Fatalf("report %X: want MTI 2, MR 0, ST %02X", tp, st)
				}
			}
		})
	}
}

func TestInboundAnnouncedPerCNMI(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CNMI=2,1,0,0,0")
	if _, err := r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if l := r.c.waitLine("+CMTI:"); l != `+CMTI: "SM",1` {
		t.Fatalf("URC %q", l)
	}
	got := r.c.ok("AT+CMGL=0")
	if len(got) != 2 || !strings.HasPrefix(got[0], "+CMGL: 1,0,,") {
		t.Fatalf("CMGL=0 = %q", got)
	}
	// Listing marked it read.
	if got := r.c.ok("AT+CMGL=0"); len(got) != 0 {
		t.Fatalf("second CMGL=0 = %q", got)
	}
	if got := r.c.ok("AT+CMGL=1"); len(got) != 2 {
		t.Fatalf("CMGL=1 = %q", got)
	}
	// Routed directly.
	r.c.ok("AT+CNMI=2,2,0,0,0")
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "direct"})
	l := r.c.waitLine("+CMT:")
	if !strings.HasPrefix(l, "+CMT: ,") {
		t.Fatalf("URC %q", l)
	}
	pduLine := r.c.next()
	b, _ := hex.DecodeString(pduLine)
	if d := decodeDeliverForTest(t, b); d.text != "direct" || d.from != "+447700900999" {
		t.Fatalf("+CMT carried %+v", d)
	}
	if n := len(r.m.Stored()); n != 1 {
		t.Fatalf("a +CMT message was stored: %d stored", n)
	}
	// +CNMA only when +CSMS=1 made acknowledgement expected.
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CNMA", "+CMS ERROR: 340")
}

func TestInboundMultipartOrderDropDuplicate(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CNMI=2,1,0,0,0")
	text := strings.Repeat("abcdefghij", 40) // 400 chars: 3 parts
	n, err := r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: text, Order: []int{3, 1, 2}, Drop: []int{2}, Duplicate: []int{3}})
	if err != nil || n != 3 {
		t.Fatalf("Inbound = %d, %v", n, err)
	}
	got := r.c.ok("AT+CMGL=4")
	var parts []int
	for i := 1; i < len(got); i += 2 {
		b, _ := hex.DecodeString(got[i])
		parts = append(parts, decodeDeliverForTest(t, b).part)
	}
	if !slices.Equal(parts, []int{3, 3, 1}) {
		t.Fatalf("parts in storage order %v, want [3 3 1]", parts)
	}
}

func TestInboundAlphabetsSendersAndPorts(t *testing.T) {
	r := newRig(t, ModemOptions{})
	cases := []struct {
		name string
		sms  InboundSMS
		dcs  byte
		from string
		text string
	}{
		{"gsm", InboundSMS{From: "+447700900999", Text: "Price: 5€ [ok]"}, 0x00, "+447700900999", "Price: 5€ [ok]"},
		{"ucs2 forced", InboundSMS{From: "+447700900999", Text: "plain", UCS2: true}, 0x08, "+447700900999", "plain"},
		{"emoji", InboundSMS{From: "+447700900999", Text: "hi 😀"}, 0x08, "+447700900999", "hi 😀"},
		{"alphanumeric", InboundSMS{From: "MyBank", Text: "code 1234"}, 0x00, "MyBank", "code 1234"},
		{"national", InboundSMS{From: "07700900999", Text: "x"}, 0x00, "07700900999", "x"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.net.Inbound(r.m, tc.sms)
			got := r.c.ok(fmt.Sprintf("AT+CMGR=%d", i+1))
			b, _ := hex.DecodeString(got[1])
			d := decodeDeliverForTest(t, b)
			if d.dcs != tc.dcs || d.from != tc.from || d.text != tc.text {
				t.Fatalf("got %+v", d)
			}
		})
	}
	t.Run("wap push", func(t *testing.T) {
		data := []byte{0x01, 0x06, 0x03, 0xAE, 0x81, 0xEA}
		r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Data: data, SrcPort: 9200, DstPort: 2948})
		got := r.c.ok(fmt.Sprintf("AT+CMGR=%d", len(cases)+1))
		b, _ := hex.DecodeString(got[1])
		d := decodeDeliverForTest(t, b)
		if d.dcs != 0x04 || d.dst != 2948 || d.src != 9200 || !slices.Equal(d.data, data) {
			t.Fatalf("got %+v", d)
		}
	})
}

func TestStorageFullStopsAnnouncements(t *testing.T) {
	r := newRig(t, ModemOptions{SMCapacity: 2})
	r.c.ok("AT+CNMI=2,1,0,0,0")
	for i := range 3 {
		r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: fmt.Sprintf("m%d", i)})
	}
	r.c.waitLine(`+CMTI: "SM",1`)
	r.c.waitLine(`+CMTI: "SM",2`)
	if info := r.c.ok("AT+CPMS?"); info[0] != `+CPMS: "SM",2,2,"SM",2,2,"SM",2,2` {
		t.Fatalf("CPMS? = %q", info)
	}
	if r.m.Held() != 1 {
		t.Fatalf("held = %d, want 1", r.m.Held())
	}
	// The command after the third inbound is answered with no +CMTI in
	// between: the full storage stopped the announcement.
	r.c.write("AT+CMGD=1\r")
	lines := r.c.until(isFinal)
	if slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "+CMTI") }) {
		t.Fatalf("announcement while full: %q", lines)
	}
	// Freeing a slot lets the network deliver what it held.
	if l := r.c.waitLine("+CMTI:"); l != `+CMTI: "SM",1` {
		t.Fatalf("after delete: %q", l)
	}
}

func TestCMGDFlags(t *testing.T) {
	cases := []struct {
		cmd  string
		left []int // stats left
	}{
		{"AT+CMGD=1", []int{1, 2, 3}},    // index 1 (unread) only
		{"AT+CMGD=1,1", []int{0, 2, 3}},  // read
		{"AT+CMGD=1,2", []int{0, 2}},     // read and sent
		{"AT+CMGD=1,3", []int{0}},        // read, sent and unsent
		{"AT+CMGD=1,4", nil},             // all
		{"AT+CMGD=0,4", nil},             // index ignored with a flag
		{"AT+CMGD=4,0", []int{0, 1, 2}},  // index 4 (sent)
		{"AT+CMGD=2", []int{0, 2, 3}},    // index 2 (read)
		{"AT+CMGD=9", []int{0, 1, 2, 3}}, // empty slot: OK, nothing deleted
	}
	for _, tc := range cases {
		t.Run(tc.cmd, func(t *testing.T) {
			r := newRig(t, ModemOptions{})
			r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "unread"})
			r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "read"})
			r.c.ok("AT+CMGR=2")
			writePDU(t, r.c, submitTPDU("+447700900555", "unsent", false), 2)
			writePDU(t, r.c, submitTPDU("+447700900555", "sent", false), 3)
			r.c.ok(tc.cmd)
			var left []int
			for _, s := range r.m.Stored() {
				left = append(left, s.Stat)
			}
			slices.Sort(left)
			if !slices.Equal(left, tc.left) {
				t.Fatalf("left %v, want %v", left, tc.left)
			}
		})
	}
}

func writePDU(t *testing.T, c *client, tpdu []byte, stat int) int {
	t.Helper()
	c.write(fmt.Sprintf("AT+CMGW=%d,%d\r", len(tpdu), stat))
	c.until(func(l string) bool { return l == "> " })
	typed := "00" + hex.EncodeToString(tpdu)
	c.write(typed + "\x1a")
	lines := c.until(isFinal)
	if lines[0] == typed { // echo on
		lines = lines[1:]
	}
	if lines[len(lines)-1] != "OK" {
		t.Fatalf("CMGW: %q", lines)
	}
	var idx int
	fmt.Sscanf(lines[0], "+CMGW: %d", &idx)
	return idx
}

func TestCMGWAndCMSS(t *testing.T) {
	r := newRig(t, ModemOptions{})
	idx := writePDU(t, r.c, submitTPDU("+447700900555", "stored", false), 2)
	if got := r.c.ok(fmt.Sprintf("AT+CMSS=%d", idx)); len(got) != 1 || got[0] != "+CMSS: 0" {
		t.Fatalf("CMSS = %q", got)
	}
	if got := r.c.ok(fmt.Sprintf(`AT+CMSS=%d,"+447700900777"`, idx)); got[0] != "+CMSS: 1" {
		t.Fatalf("CMSS to another = %q", got)
	}
	sent := r.net.Sent()
	if len(sent) != 2 || sent[0].To != "+447700900555" || sent[1].To != "+447700900777" || sent[1].Text != "stored" {
		t.Fatalf("sent %+v", sent)
	}
	if r.m.Stored()[0].Stat != 3 {
		t.Fatal("stored message not marked sent")
	}
}

func TestTextMode(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CMGF=1")
	r.c.write("AT+CMGS=\"+447700900555\"\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("hello text\x1a")
	lines := r.c.until(isFinal)
	if lines[len(lines)-1] != "OK" || !slices.Contains(lines, "+CMGS: 0") {
		t.Fatalf("text CMGS: %q", lines)
	}
	if s := r.net.Sent(); s[0].Text != "hello text" || s[0].To != "+447700900555" {
		t.Fatalf("sent %+v", s)
	}
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "reply one", Time: time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)})
	got := r.c.ok(`AT+CMGL="ALL"`)
	want := []string{`+CMGL: 1,"REC UNREAD","+447700900999",,"26/03/01,12:30:00+00"`, "reply one"}
	if !slices.Equal(got, want) {
		t.Fatalf("CMGL ALL = %q, want %q", got, want)
	}
	got = r.c.ok("AT+CMGR=1")
	if got[0] != `+CMGR: "REC READ","+447700900999",,"26/03/01,12:30:00+00"` || got[1] != "reply one" {
		t.Fatalf("CMGR = %q", got)
	}
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CMGL=4", "+CMS ERROR: 305")
}

func TestConcurrentURCWaitsForResponse(t *testing.T) {
	// A URC that arrives while a send is in progress comes after its answer.
	r := newRig(t, ModemOptions{Latency: 50 * time.Millisecond})
	r.c.ok("AT+CNMI=2,1,0,0,0")
	r.c.write(fmt.Sprintf("AT+CMGS=%d\r", len(submitTPDU("+447700900555", "x", false))))
	r.c.until(func(l string) bool { return l == "> " })
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "during"})
	r.c.write("00" + hex.EncodeToString(submitTPDU("+447700900555", "x", false)) + "\x1a")
	lines := r.c.until(func(l string) bool { return strings.HasPrefix(l, "+CMTI") })
	if !slices.Equal(lines[1:], []string{"+CMGS: 0", "OK", `+CMTI: "SM",1`}) {
		t.Fatalf("lines %q", lines)
	}
}

func TestMessagesBetweenModems(t *testing.T) {
	n := NewNetwork(NetworkOptions{})
	a, _ := n.AddModem(ModemOptions{OwnNumber: "+447700900001"})
	b, _ := n.AddModem(ModemOptions{OwnNumber: "+447700900002"})
	ctx := t.Context()
	conn, err := a.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, conn)
	if _, final := c.sendPDU(submitTPDU("+447700900002", "between modems", false)); final != "OK" {
		t.Fatal(final)
	}
	st := b.Stored()
	if len(st) != 1 || st[0].Text != "between modems" || st[0].Addr != "+447700900001" {
		t.Fatalf("b stored %+v", st)
	}
}

// deliverForTest is what tests check in an SMS-DELIVER.
type deliverForTest struct {
	from     string
	dcs      byte
	text     string
	data     []byte
	part     int
	src, dst int
}

// decodeDeliverForTest reads an SMSC-prefixed SMS-DELIVER by reusing the
// submit decoder on a rewritten header: the fields after the addresses
// differ only by the time stamp.
func decodeDeliverForTest(t *testing.T, b []byte) deliverForTest {
	t.Helper()
	tp := b[1+int(b[0]):]
	if tp[0]&3 != 0 {
		t.Fatalf("not a DELIVER: %X", tp)
	}
	from, n, err := decodeAddress(tp[1:])
	if err != nil {
		t.Fatal(err)
	}
	i := 1 + n
	dcs := tp[i+1]
	// Rebuild as a SUBMIT: fo (with UDHI), MR 0, DA, PID, DCS, no VP, UDL+UD.
	sub := []byte{0x01 | tp[0]&0x40, 0}
	sub = append(sub, tp[1:1+n]...)
	sub = append(sub, tp[i], dcs)
	sub = append(sub, tp[i+2+7:]...)
	s, err := decodeSubmit(sub)
	if err != nil {
		t.Fatalf("decode %X: %v", tp, err)
	}
	d := deliverForTest{from: from, dcs: dcs, text: s.Text, part: s.Part, src: s.SrcPort, dst: s.DstPort}
	if alphabet(dcs) == 1 {
		d.data = s.UD
	}
	return d
}

func TestUnplugReplugNewPathAndStoragePersists(t *testing.T) {
	link := t.TempDir() + "/modem0"
	r := newRig(t, ModemOptions{PTYLink: link})
	if target, err := os.Readlink(link); err != nil || target != r.path {
		t.Fatalf("link -> %q, %v; want %s", target, err, r.path)
	}
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "kept"})
	r.c.ok("ATE0")
	r.m.Unplug()
	// The client sees the port go away.
	for range r.c.lines {
	}
	if _, err := os.Stat(r.path); !errors.Is(err, os.ErrNotExist) {
		// devpts removes the node when the master closes
		t.Logf("old path still present: %v", err)
	}
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "while away"})
	path, err := r.m.Replug(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if path == r.path {
		t.Fatalf("replugged at the same path %s", path)
	}
	if target, _ := os.Readlink(link); target != path {
		t.Fatalf("link -> %q, want %s", target, path)
	}
	c := openPTYClient(t, path)
	c.write("AT\r")
	if l := c.next(); l != "AT" {
		t.Fatalf("echo after replug: %q", l)
	}
	c.until(isFinal)
	got := c.ok("AT+CMGL=4")
	if len(got) != 4 {
		t.Fatalf("after replug CMGL = %q, want both messages", got)
	}
}

func TestTCP(t *testing.T) {
	n := NewNetwork(NetworkOptions{})
	m, _ := n.AddModem(ModemOptions{})
	addr, err := m.ServeTCP(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := dialClient(t, addr)
	if got := c.ok("AT+CGSN"); got[0] != m.IMEI() {
		t.Fatalf("CGSN = %q", got)
	}
	m.Unplug()
	for range c.lines {
	}
	if _, err := m.Replug(t.Context()); err != nil {
		t.Fatal(err)
	}
	c = dialClient(t, addr)
	c.ok("AT")
}

// Each +CPIN case reads as TS 27.007 §9.2 gives it under +CMEE 0, 1 and 2.
func TestCPINErrorsPerCMEE(t *testing.T) {
	cases := []struct {
		name string
		opts ModemOptions
		cmd  string
		code int
	}{
		{"no SIM", ModemOptions{NoSIM: true}, "AT+CPIN?", 10},
		{"no SIM, PIN given", ModemOptions{NoSIM: true}, "AT+CPIN=1234", 10},
		{"PIN needed", ModemOptions{PIN: "1234"}, "AT+CIMI", 11},
		{"wrong PIN", ModemOptions{PIN: "1234"}, "AT+CPIN=0000", 16},
		{"not locked", ModemOptions{}, "AT+CPIN=1234", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.opts)
			for cmee, want := range []string{"ERROR", "+CME ERROR: " + itoa(tc.code), "+CME ERROR: " + cmeText[tc.code]} {
				r.c.ok("AT+CMEE=" + itoa(cmee))
				r.c.expect(tc.cmd, want) // "wrong PIN": the third try still reads 16

			}
		})
	}
	// PUK needed: a PIN alone is not enough.
	r := newRig(t, ModemOptions{PIN: "1234"})
	r.c.ok("AT+CMEE=2")
	for range 3 {
		r.c.expect("AT+CPIN=0000", "+CME ERROR: incorrect password")
	}
	r.c.expect("AT+CPIN=1234", "+CME ERROR: SIM PUK required")
	r.c.expect("AT+CMGL=4", "+CMS ERROR: SIM PUK required")
}

// The tries left and the PUK state live on the SIM: neither a reset nor a
// power cycle (AT+CFUN=1,1) nor an unplug gives them back.
func TestSIMLockSurvivesResetAndReplug(t *testing.T) {
	r := newRig(t, ModemOptions{PIN: "1234", PUK: "87654321"})
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CPIN=0000", "+CME ERROR: 16")
	r.c.ok("AT+CFUN=1,1")
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CPIN=0000", "+CME ERROR: 16")
	r.c.ok("ATZ")
	r.c.ok("AT+CMEE=1")
	r.c.expect("AT+CPIN=0000", "+CME ERROR: 16") // the third wrong try
	if info := r.c.ok("AT+CPIN?"); info[0] != "+CPIN: SIM PUK" {
		t.Fatalf("after three wrong PINs across resets CPIN? = %q", info)
	}
	r.c.ok("AT+CFUN=1,1")
	if info := r.c.ok("AT+CPIN?"); info[0] != "+CPIN: SIM PUK" {
		t.Fatalf("a power cycle unlocked the PUK: CPIN? = %q", info)
	}
	r.m.Unplug()
	for range r.c.lines {
	}
	path, err := r.m.Replug(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := openPTYClient(t, path)
	if info := c.ok("AT+CPIN?"); info[0] != "+CPIN: SIM PUK" {
		t.Fatalf("a replug unlocked the PUK: CPIN? = %q", info)
	}
	// Ten wrong PUKs block the SIM for good (+CME ERROR: 13, SIM failure).
	c.ok("AT+CMEE=1")
	for range 10 {
		c.expect(`AT+CPIN="11111111","4321"`, "+CME ERROR: 16")
	}
	c.expect("AT+CPIN?", "+CME ERROR: 13")
	c.expect("AT+CMGL=4", "+CMS ERROR: 313")
	c.ok("AT+CFUN=1,1")
	c.ok("AT+CMEE=1")
	c.expect(`AT+CPIN="87654321","4321"`, "+CME ERROR: 13")
}

// Every reset turns echo back on, on every profile: ATZ and AT&F restore
// the power-up settings and AT+CFUN=1,1 restarts the modem.
func TestEchoBackOnAfterEveryReset(t *testing.T) {
	for _, profile := range Profiles() {
		r := newRig(t, ModemOptions{Profile: profile})
		for _, reset := range []string{"ATZ", "AT&F", "AT+CFUN=1,1"} {
			r.c.ok("ATE0")
			r.c.write("AT+CGMI\r")
			if got := r.c.until(isFinal); slices.Contains(got, "AT+CGMI") {
				t.Fatalf("%s: echo after ATE0: %q", profile, got)
			}
			r.c.write(reset + "\r")
			r.c.until(isFinal)
			r.c.write("AT+CGMI\r")
			// Boot codes after AT+CFUN=1,1 may come first; the echo must
			// be among the lines before OK.
			if got := r.c.until(isFinal); !slices.Contains(got, "AT+CGMI") {
				t.Fatalf("%s: no echo after %s: %q", profile, reset, got)
			}
		}
	}
}

// checkPDULength checks a PDU-mode header's last field, <length>, against
// the PDU line that follows: TS 27.005 counts the TPDU octets only, not the
// SMSC address in front of them.
func checkPDULength(t *testing.T, header, pduLine string) {
	t.Helper()
	n, err := strconv.Atoi(header[strings.LastIndexByte(header, ',')+1:])
	if err != nil {
		n, err = strconv.Atoi(strings.TrimPrefix(header, "+CDS: "))
	}
	b, herr := hex.DecodeString(pduLine)
	if err != nil || herr != nil || len(b) == 0 {
		t.Fatalf("%q then %q: %v %v", header, pduLine, err, herr)
	}
	if tp := len(b) - 1 - int(b[0]); n != tp || int(b[0]) == 0 {
		t.Fatalf("%q then %q: length %d, TPDU has %d octets after a %d-octet SMSC", header, pduLine, n, tp, b[0])
	}
}

// The headers of PDU-mode codes and answers read as TS 27.005 gives them:
// +CMT: [<alpha>],<length>; +CDS: <length>; +CMGL: <index>,<stat>,[<alpha>],<length>;
// +CMGR: <stat>,[<alpha>],<length>.
func TestPDUModeHeaders(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("ATE0")
	r.c.ok("AT+CNMI=2,2,0,1,0")
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "routed"})
	h := r.c.waitLine("+CMT: ")
	if !strings.HasPrefix(h, "+CMT: ,") {
		t.Fatalf("+CMT header %q", h)
	}
	checkPDULength(t, h, r.c.next())

	r.net.SetReportOutcome(ReportOutcome{Kind: Delivered, Delay: time.Minute})
	if _, final := r.c.sendPDU(submitTPDU("+447700900555", "report me", true)); final != "OK" {
		t.Fatal(final)
	}
	r.net.Advance(time.Minute)
	h = r.c.waitLine("+CDS: ")
	checkPDULength(t, h, r.c.next())

	r.c.ok("AT+CNMI=2,1,0,0,0")
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "stored"})
	if l := r.c.waitLine("+CMTI: "); l != `+CMTI: "SM",1` {
		t.Fatalf("+CMTI %q", l)
	}
	got := r.c.ok("AT+CMGL=4")
	if len(got) != 2 || !strings.HasPrefix(got[0], "+CMGL: 1,0,,") {
		t.Fatalf("CMGL = %q", got)
	}
	checkPDULength(t, got[0], got[1])
	got = r.c.ok("AT+CMGR=1")
	if len(got) != 2 || !strings.HasPrefix(got[0], "+CMGR: 1,,") {
		t.Fatalf("CMGR = %q", got)
	}
	checkPDULength(t, got[0], got[1])
}
