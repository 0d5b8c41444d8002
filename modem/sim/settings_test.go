package sim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSettingsCommands(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CMEE=1")
	cases := []struct {
		cmd   string
		final string
		info  []string
	}{
		{`AT+CSCS="UCS2"`, "OK", nil},
		{"AT+CSCS?", "OK", []string{`+CSCS: "UCS2"`}},
		{`AT+CSCS="KOI8"`, "+CME ERROR: 4", nil},
		{`AT+CSCS="GSM"`, "OK", nil},
		{`AT+CSCA="+447700900111",145`, "OK", nil},
		{"AT+CSCA?", "OK", []string{`+CSCA: "+447700900111",145`}},
		{"AT+CSDH=1", "OK", nil},
		{"AT+CSDH?", "OK", []string{"+CSDH: 1"}},
		{"AT+CSMP=49,167,0,0", "OK", nil},
		{"AT+CSMP?", "OK", []string{"+CSMP: 49,167,0,0"}},
		{"AT+CSMP=1,2,3,4,5", "+CMS ERROR: 305", nil},
		{"AT+CMGF=1", "OK", nil},
		{"AT+CMGF", "OK", nil},
		{"AT+CMGF?", "OK", []string{"+CMGF: 0"}},
		{"AT+CMGF=2", "+CMS ERROR: 303", nil},
		{`AT+CPMS="XX"`, "+CMS ERROR: 303", nil},
		{"AT+COPS=?", "OK", []string{`+COPS: (2,"gsmgate","gsmgate","23415",2),,(0-4),(0-2)`}},
		{"AT+COPS=0", "OK", nil},
		{"AT+CGREG?", "OK", []string{"+CGREG: 0,1"}},
		{"AT+CFUN=?", "OK", []string{"+CFUN: (0,1,4),(0,1)"}},
		{"AT+CFUN=0,1", "+CME ERROR: 3", nil},
		{"AT+CSQ=?", "OK", []string{"+CSQ: (0-31,99),(0-7,99)"}},
		{"AT+CUSD?", "OK", []string{"+CUSD: 1"}},
		{"ATS0?", "OK", []string{"000"}},
		{"ATS0=1", "OK", nil},
		{"AT&G", "ERROR", nil},
		{"AT^PORTSEL=1", "ERROR", nil}, // huawei only
		{"AT+CMGS", "ERROR", nil},
	}
	for _, tc := range cases {
		info, final := r.c.at(tc.cmd)
		if final != tc.final || !slices.Equal(info, tc.info) {
			t.Errorf("%s = %q %q, want %q %q", tc.cmd, info, final, tc.info, tc.final)
		}
	}
}

func TestNumericResultCodes(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("ATE0")
	r.c.write("ATV0\r")
	if l := r.c.next(); l != "0" {
		t.Fatalf("ATV0 answered %q, want 0", l)
	}
	r.c.write("AT+NOSUCH\r")
	if l := r.c.next(); l != "4" {
		t.Fatalf("error in V0: %q, want 4", l)
	}
	r.c.write("AT+CGMI\r")
	if got := []string{r.c.next(), r.c.next()}; !slices.Equal(got, []string{"gsmgate", "0"}) {
		t.Fatalf("info in V0: %q", got)
	}
	r.c.write("ATV1\r")
	r.c.until(isFinal)
	r.c.ok("AT")
}

func TestUSSDInUCS2AndSignal(t *testing.T) {
	r := newRig(t, ModemOptions{Signal: 7})
	r.m.SetUSSDAnswer("Ω 5")
	r.c.ok(`AT+CSCS="UCS2"`)
	r.c.ok(`AT+CUSD=1,"002A0031003000300023",15`)
	if l := r.c.waitLine("+CUSD:"); l != `+CUSD: 0,"03A900200035",15` {
		t.Fatalf("UCS2 USSD %q", l)
	}
	if got := r.c.ok("AT+CSQ"); got[0] != "+CSQ: 7,99" {
		t.Fatalf("CSQ %q", got)
	}
	r.m.SetSignal(25)
	if got := r.c.ok("AT+CSQ"); got[0] != "+CSQ: 25,99" {
		t.Fatalf("CSQ %q", got)
	}
}

func TestCNMAAfterCMT(t *testing.T) {
	r := newRig(t, ModemOptions{OwnNumber: "+447700900123"})
	r.c.ok("AT+CMEE=1")
	r.c.ok("AT+CSMS=1")
	r.c.ok("AT+CNMI=2,2,0,1,0")
	if _, err := r.net.InboundTo("+447700900123", InboundSMS{From: "+447700900999", Text: "ack me"}); err != nil {
		t.Fatal(err)
	}
	r.c.waitLine("+CMT:")
	r.c.next()
	r.c.ok("AT+CNMA")
	r.c.expect("AT+CNMA", "+CMS ERROR: 340")
	if _, err := r.net.InboundTo("+440000", InboundSMS{From: "x", Text: "y"}); err == nil {
		t.Fatal("inbound to an unknown number accepted")
	}
}

func TestTextModeStatusReportsAndSRR(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CMGF=1")
	r.c.ok("AT+CSMP=49,167,0,0") // TP-SRR set
	r.c.ok("AT+CNMI=2,1,0,1,0")
	r.net.SetReportOutcome(ReportOutcome{Kind: Delivered, Delay: time.Minute})
	r.c.write("AT+CMGS=\"+447700900555\"\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("report me\x1a")
	r.c.until(isFinal)
	if s := r.net.Sent(); !s[0].Report {
		t.Fatalf("SRR not set from +CSMP: %+v", s[0])
	}
	r.net.Advance(time.Minute)
	l := r.c.waitLine("+CDS:")
	if l != `+CDS: 6,0,"+447700900555",145,"26/03/01,12:00:00+00","26/03/01,12:01:00+00",0` {
		t.Fatalf("text +CDS %q", l)
	}
	// Stored with +CDSI and listed in text mode.
	r.c.ok("AT+CNMI=2,1,0,2,0")
	r.c.write("AT+CMGS=\"+447700900555\"\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("again\x1a")
	r.c.until(isFinal)
	r.net.Advance(time.Minute)
	r.c.waitLine("+CDSI:")
	got := r.c.ok(`AT+CMGL="ALL"`)
	if len(got) != 1 || !strings.HasPrefix(got[0], `+CMGL: 1,"REC UNREAD",6,1,"+447700900555",145,`) {
		t.Fatalf("CMGL of a report: %q", got)
	}
}

func TestStatusReportOnRealClock(t *testing.T) {
	n := NewNetwork(NetworkOptions{})
	n.SetReportOutcome(ReportOutcome{Kind: Delivered, Delay: time.Millisecond})
	m, _ := n.AddModem(ModemOptions{})
	conn, err := m.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, conn)
	c.ok("AT+CNMI=2,1,0,1,0")
	c.sendPDU(submitTPDU("+447700900555", "x", true))
	c.waitLine("+CDS:")
	if len(n.Modems()) != 1 || n.Now().IsZero() {
		t.Fatal("network bookkeeping")
	}
}
