package sim

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProfileIdentity(t *testing.T) {
	cases := []struct {
		profile, cgmi, cgmm, ati0, ccid string
	}{
		{"generic", "gsmgate", "Virtual GSM modem", "Manufacturer: gsmgate", "+CCID: "},
		{"sim800", "SIMCOM_Ltd", "SIMCOM_SIM800L", "SIM800 R14.18", ""},
		{"huawei", "huawei", "E173", "Manufacturer: huawei", "+CCID: "},
		{"quectel", "Quectel", "EC25", "Quectel", "+CCID: "},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			r := newRig(t, ModemOptions{Profile: tc.profile})
			if got := r.c.ok("AT+CGMI"); got[0] != tc.cgmi {
				t.Errorf("CGMI = %q", got)
			}
			if got := r.c.ok("AT+CGMM"); got[0] != tc.cgmm {
				t.Errorf("CGMM = %q", got)
			}
			if got := r.c.ok("ATI"); got[0] != tc.ati0 {
				t.Errorf("ATI = %q", got)
			}
			if got := r.c.ok("AT+CCID"); got[0] != tc.ccid+r.m.Options().ICCID {
				t.Errorf("CCID = %q", got)
			}
		})
	}
}

func TestProfileUnknownCommand(t *testing.T) {
	for _, tc := range []struct{ profile, want string }{
		{"generic", "ERROR"}, {"sim800", "ERROR"}, {"huawei", "COMMAND NOT SUPPORT"}, {"quectel", "ERROR"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			r := newRig(t, ModemOptions{Profile: tc.profile})
			r.c.ok("AT+CMEE=2")
			r.c.expect("AT+SYNCML=?", tc.want)
		})
	}
}

func TestProfileBootCodes(t *testing.T) {
	cases := map[string][]string{
		"sim800":  {"RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"},
		"quectel": {"RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1"},
		"huawei":  {"^BOOT:20392698,0,0,0,72", "^SRVST: 2", "^SIMST: 1", "^MODE:5,4"},
	}
	for profile, want := range cases {
		t.Run(profile, func(t *testing.T) {
			n := NewNetwork(NetworkOptions{})
			m, _ := n.AddModem(ModemOptions{Profile: profile, FloodInterval: time.Hour})
			path, err := m.ServePTY(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			c := openPTYClient(t, path)
			var got []string
			for range want {
				got = append(got, c.next())
			}
			if !slices.Equal(got, want) {
				t.Fatalf("boot codes %q, want %q", got, want)
			}
			// +CFUN=1,1 resets and boots again.
			c.write("AT+CFUN=1,1\r")
			lines := c.until(func(l string) bool { return l == want[len(want)-1] })
			if !slices.Contains(lines, "OK") {
				t.Fatalf("reset: %q", lines)
			}
		})
	}
}

// What is typed after the prompt, PDU or text, is echoed while ATE1 is in
// force (TS 27.005 §3.5.1, §4.3), on every profile, and not after ATE0.
func TestPromptInputEchoFollowsATE(t *testing.T) {
	tp := submitTPDU("+447700900555", "hi", false)
	pduHex := "00" + strings.ToUpper(hex.EncodeToString(tp))
	for _, profile := range Profiles() {
		t.Run(profile, func(t *testing.T) {
			r := newRig(t, ModemOptions{Profile: profile})
			send := func() []string {
				r.c.write(fmt.Sprintf("AT+CMGS=%d\r", len(tp)))
				r.c.until(func(l string) bool { return l == "> " })
				r.c.write(pduHex + "\x1a")
				var lines []string
				for _, l := range r.c.until(isFinal) {
					if !isNoise(l) {
						lines = append(lines, l)
					}
				}
				return lines
			}
			if lines := send(); !slices.Equal(lines, []string{pduHex, "+CMGS: 0", "OK"}) {
				t.Fatalf("echo on: %q", lines)
			}
			r.c.ok("ATE0")
			if lines := send(); !slices.Equal(lines, []string{"+CMGS: 1", "OK"}) {
				t.Fatalf("echo off: %q", lines)
			}
		})
	}
}

// sim800 wants the number quoted in text mode; generic takes it bare.
func TestSIM800NeedsQuotedNumber(t *testing.T) {
	r := newRig(t, ModemOptions{Profile: "sim800"})
	r.c.ok("AT+CMGF=1")
	r.c.expect("AT+CMGS=+447700900555", "ERROR")
	r.c.expect("AT+CMGW=+447700900555", "ERROR")
	r.c.write("AT+CMGS=\"+447700900555\"\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("quoted\x1a")
	if lines := r.c.until(isFinal); lines[len(lines)-1] != "OK" {
		t.Fatalf("quoted text send: %q", lines)
	}
	g := newRig(t, ModemOptions{})
	g.c.ok("AT+CMGF=1")
	g.c.write("AT+CMGS=+447700900555\r")
	g.c.until(func(l string) bool { return l == "> " })
	g.c.write("\x1b")
	g.c.until(isFinal)
}

func TestHuaweiFloodsUntilCURC0(t *testing.T) {
	r := newRig(t, ModemOptions{Profile: "huawei", FloodInterval: 10 * time.Millisecond})
	seen := map[string]bool{}
	for len(seen) < 3 {
		l := r.c.next()
		for _, p := range []string{"^RSSI:", "^BOOT:", "^MODE:"} {
			if strings.HasPrefix(l, p) {
				seen[p] = true
			}
		}
	}
	// Commands are still answered in full between the codes.
	if got := r.c.ok("AT+CSQ"); !slices.Equal(got, []string{"+CSQ: 20,99"}) {
		t.Fatalf("CSQ amid the flood = %q", got)
	}
	r.c.ok("AT^CURC=0")
	// After ^CURC=0 nothing but answers: a command and its answer, then
	// another, with no code in between (the flood period is 10ms, so many
	// periods pass while the client runs the second command).
	r.c.write("AT+CGMI\r")
	lines := r.c.until(isFinal)
	r.c.write("AT+CGMM\r")
	lines = append(lines, r.c.until(isFinal)...)
	for _, l := range lines {
		if strings.HasPrefix(l, "^") {
			t.Fatalf("code after ^CURC=0: %q", lines)
		}
	}
}

func TestQuectelCNMIAndQIND(t *testing.T) {
	r := newRig(t, ModemOptions{Profile: "quectel", PIN: "1234"})
	r.c.ok("AT+CMEE=1")
	r.c.ok("AT+CPIN=1234")
	if l := r.c.waitLine("+QIND:"); l != "+QIND: SMS DONE" {
		t.Fatalf("after PIN: %q", l)
	}
	if got := r.c.ok("AT+CNMI=?"); got[0] != "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)" {
		t.Fatalf("CNMI=? = %q", got)
	}
	r.c.expect("AT+CNMI=3,1,0,2,0", "+CMS ERROR: 500")
	r.c.ok("AT+CNMI=2,1,0,2,0")
	g := newRig(t, ModemOptions{})
	g.c.ok("AT+CMEE=1")
	g.c.ok("AT+CNMI=3,1,0,2,0")
	g.c.expect("AT+CNMI=4,1,0,2,0", "+CMS ERROR: 303")
}

func TestCNMIMode0BuffersUntilModeChanges(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("AT+CNMI=0,1,0,0,0")
	r.net.Inbound(r.m, InboundSMS{From: "+447700900999", Text: "buffered"})
	r.c.write("AT\r")
	if lines := r.c.until(isFinal); slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "+CMTI") }) {
		t.Fatalf("announced in mode 0: %q", lines)
	}
	r.c.write("AT+CNMI=2,1,0,0,0\r")
	lines := r.c.until(func(l string) bool { return strings.HasPrefix(l, "+CMTI") })
	if lines[len(lines)-1] != `+CMTI: "SM",1` {
		t.Fatalf("flush: %q", lines)
	}
}

func TestBarePrompt(t *testing.T) {
	r := newRig(t, ModemOptions{BarePrompt: true})
	tp := submitTPDU("+447700900555", "bare", false)
	r.c.write(fmt.Sprintf("AT+CMGS=%d\r", len(tp)))
	if got := r.c.until(func(l string) bool { return l == ">" }); got[len(got)-1] != ">" {
		t.Fatalf("prompt lines %q", got)
	}
	r.c.write("00" + hex.EncodeToString(tp) + "\x1a")
	if lines := r.c.until(isFinal); !slices.Equal(lines[1:], []string{"+CMGS: 0", "OK"}) {
		t.Fatalf("send after a bare prompt: %q", lines)
	}
}

func TestQuectelReportsToSR(t *testing.T) {
	r := newRig(t, ModemOptions{Profile: "quectel", ReportsToSR: true})
	r.c.ok("AT+CMEE=1")
	if got := r.c.ok("AT+CPMS=?"); got[0] != `+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")` {
		t.Fatalf("CPMS=? %q", got)
	}
	r.c.ok("AT+CNMI=2,1,0,2,0")
	r.net.SetReportOutcome(ReportOutcome{Kind: Delivered, Delay: time.Minute})
	if _, final := r.c.sendPDU(submitTPDU("+447700900555", "report", true)); final != "OK" {
		t.Fatal(final)
	}
	r.net.Advance(time.Minute)
	r.c.write("AT\r")
	lines := r.c.until(func(l string) bool { return strings.HasPrefix(l, "+CDSI") })
	if lines[len(lines)-1] != `+CDSI: "SM",0` {
		t.Fatalf("announcement %q", lines)
	}
	r.c.until(isFinal)
	if got := r.c.ok("AT+CMGR=0"); len(got) != 0 {
		t.Fatalf("CMGR=0 = %q, want a bare OK", got)
	}
	r.c.expect(`AT+CPMS="SM","SR"`, "+CMS ERROR: 303")
	r.c.ok(`AT+CPMS="SR"`)
	got := r.c.ok("AT+CMGR=1")
	if len(got) != 2 || !strings.HasPrefix(got[0], "+CMGR: 0,,") {
		t.Fatalf("report in SR: %q", got)
	}
}

// expandRanges reads a +CNMI=? answer's groups: "(0-2),(0,2)" -> [[0 1 2] [0 2]].
func expandRanges(t *testing.T, s string) [][]int {
	t.Helper()
	var out [][]int
	for _, g := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(s, "("), ")"), "),(") {
		var vals []int
		for _, item := range strings.Split(g, ",") {
			lo, hi, isRange := strings.Cut(item, "-")
			a, err := strconv.Atoi(lo)
			b := a
			if err == nil && isRange {
				b, err = strconv.Atoi(hi)
			}
			if err != nil {
				t.Fatalf("range %q in %q", item, s)
			}
			for v := a; v <= b; v++ {
				vals = append(vals, v)
			}
		}
		out = append(out, vals)
	}
	return out
}

// Each profile's +CNMI=? is what it accepts: every value listed is taken,
// one past the listed <mode> is refused with the profile's code, and the
// settings a gateway uses (+CMTI or +CMT, +CDSI or +CDS) are all there.
func TestCNMIRangesPerProfile(t *testing.T) {
	cases := []struct {
		profile, test, refusal string
		badMode                int
	}{
		{"generic", "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)", "+CMS ERROR: 303", 4},
		{"sim800", "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)", "+CMS ERROR: 303", 4},
		{"huawei", "+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)", "+CMS ERROR: 303", 3},
		{"quectel", "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", "+CMS ERROR: 500", 3},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			r := newRig(t, ModemOptions{Profile: tc.profile})
			r.c.ok("AT+CMEE=1")
			got := r.c.ok("AT+CNMI=?")
			if len(got) != 1 || got[0] != tc.test {
				t.Fatalf("CNMI=? = %q, want %q", got, tc.test)
			}
			ranges := expandRanges(t, strings.TrimPrefix(got[0], "+CNMI: "))
			if len(ranges) != 5 {
				t.Fatalf("CNMI=? has %d groups", len(ranges))
			}
			for i, vals := range ranges {
				for _, v := range vals {
					set := []string{"2", "1", "0", "0", "0"}
					set[i] = itoa(v)
					r.c.ok("AT+CNMI=" + strings.Join(set, ","))
				}
			}
			for _, used := range []string{"2,1,0,2,0", "2,2,0,1,0", "1,1,0,2,0", "2,1,0,1,0", "2,2,0,2,0"} {
				r.c.ok("AT+CNMI=" + used)
			}
			r.c.expect("AT+CNMI="+itoa(tc.badMode)+",1,0,2,0", tc.refusal)
			r.c.ok("AT+CNMI=2,1,0,0,0")
		})
	}
}

func TestHuaweiPORTSEL(t *testing.T) {
	r := newRig(t, ModemOptions{Profile: "huawei"})
	r.c.ok("AT^CURC=0")
	if got := r.c.ok("AT^PORTSEL=?"); !slices.Equal(got, []string{"^PORTSEL: (0-1)"}) {
		t.Fatalf("PORTSEL=? = %q", got)
	}
	r.c.ok("AT^PORTSEL=1")
	if got := r.c.ok("AT^PORTSEL?"); !slices.Equal(got, []string{"^PORTSEL: 1"}) {
		t.Fatalf("PORTSEL? = %q", got)
	}
	r.c.expect("AT^PORTSEL=2", "ERROR")
}

// +CMMS (keep the SMS link open) works on the generic modem; a Huawei
// E1752 refuses it with +CMS ERROR: 500 (gammu/gammu#138).
func TestCMMSPerProfile(t *testing.T) {
	g := newRig(t, ModemOptions{})
	g.c.ok("AT+CMEE=1")
	if got := g.c.ok("AT+CMMS=?"); !slices.Equal(got, []string{"+CMMS: (0-2)"}) {
		t.Fatalf("CMMS=? = %q", got)
	}
	g.c.ok("AT+CMMS=2")
	if got := g.c.ok("AT+CMMS?"); !slices.Equal(got, []string{"+CMMS: 2"}) {
		t.Fatalf("CMMS? = %q", got)
	}
	g.c.expect("AT+CMMS=3", "+CMS ERROR: 303")
	h := newRig(t, ModemOptions{Profile: "huawei"})
	h.c.ok("AT+CMEE=1")
	h.c.expect("AT+CMMS=2", "+CMS ERROR: 500")
}

// TestIdentitiesAreDistinct: modems of one network never share an IMEI,
// and modems of separate networks with different numbers do not either
// (the pool refuses a second port with a known IMEI as the same modem).
func TestIdentitiesAreDistinct(t *testing.T) {
	add := func(n *Network, number string) ModemOptions {
		t.Helper()
		m, err := n.AddModem(ModemOptions{OwnNumber: number})
		if err != nil {
			t.Fatal(err)
		}
		return m.Options()
	}
	one := NewNetwork(NetworkOptions{})
	a, b, c := add(one, "+447700900001"), add(one, "+447700900002"), add(one, "")
	other := add(NewNetwork(NetworkOptions{}), "+447700900003")
	same := add(NewNetwork(NetworkOptions{}), "+447700900001")
	seen := map[string]string{}
	for _, o := range []ModemOptions{a, b, c, other} {
		for _, id := range []string{o.IMEI, o.IMSI, o.ICCID} {
			if prev, dup := seen[id]; dup {
				t.Errorf("identity %s of %q also belongs to %q", id, o.OwnNumber, prev)
			}
			seen[id] = o.OwnNumber
		}
		if len(o.IMEI) != 15 || luhn(o.IMEI[:14]) != o.IMEI {
			t.Errorf("IMEI %q of %q is not 15 digits with a Luhn check digit", o.IMEI, o.OwnNumber)
		}
	}
	if same.IMEI != a.IMEI {
		t.Errorf("the same number in another network got IMEI %s, want the stable %s", same.IMEI, a.IMEI)
	}
	// A second modem with the same number in one network still differs.
	if again := add(one, "+447700900001"); again.IMEI == a.IMEI {
		t.Errorf("two modems of one network share IMEI %s", a.IMEI)
	}
}
