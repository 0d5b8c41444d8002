package modem

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/modem/at"
)

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`0,1`, []string{"0", "1"}},
		{`"SM",3`, []string{"SM", "3"}},
		{`0,0,"Vodafone, UK",7`, []string{"0", "0", "Vodafone, UK", "7"}},
		{`("SM","ME"),("SM")`, []string{`("SM","ME")`, `("SM")`}},
		{`(0-2),(0,1)`, []string{"(0-2)", "(0,1)"}},
		{``, []string{""}},
	} {
		if got := fields(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("fields(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSignalFromCSQ(t *testing.T) {
	for _, tc := range []struct {
		rssi, dbm, bars int
		known           bool
	}{
		{0, -113, 0, true}, {1, -111, 0, true}, {2, -109, 1, true}, {9, -95, 1, true},
		{10, -93, 2, true}, {15, -83, 3, true}, {19, -75, 3, true}, {20, -73, 4, true},
		{31, -51, 4, true}, {99, 0, -1, false}, {-1, 0, -1, false}, {32, 0, -1, false},
	} {
		s := SignalFromCSQ(tc.rssi)
		if s.DBm != tc.dbm || s.Bars != tc.bars || s.Known() != tc.known {
			t.Errorf("SignalFromCSQ(%d) = %+v known=%v, want %d dBm, %d bars", tc.rssi, s, s.Known(), tc.dbm, tc.bars)
		}
	}
	if s, err := parseCSQ([]string{"+CSQ: 17,99"}); err != nil || s.DBm != -79 {
		t.Errorf("parseCSQ = %+v, %v", s, err)
	}
	if _, err := parseCSQ([]string{"+CSQ: x"}); err == nil {
		t.Errorf("parseCSQ accepted garbage")
	}
}

func TestParseReg(t *testing.T) {
	for _, tc := range []struct {
		line   string
		prefix string
		want   Registration
	}{
		{"+CREG: 0,1", "+CREG:", RegHome},
		{"+CREG: 2,5,\"1A2B\",\"01C2D3E4\",7", "+CREG:", RegRoaming},
		{"+CREG: 0,2", "+CREG:", RegSearching},
		{"+CREG: 0,3", "+CREG:", RegDenied},
		{"+CREG: 0,0", "+CREG:", RegNotSearching},
		{"+CEREG: 0,6", "+CEREG:", RegHome},
		{"+CGREG: 0,4", "+CGREG:", RegUnknown},
		{"+CREG: 0,8", "+CREG:", RegEmergency},
	} {
		got, err := parseReg([]string{tc.line}, tc.prefix)
		if err != nil || got != tc.want {
			t.Errorf("parseReg(%q) = %v, %v; want %v", tc.line, got, err, tc.want)
		}
	}
	// Registration reports the engine hands to the query (same name).
	for _, tc := range []struct {
		lines []string
		want  Registration
	}{
		{[]string{`+CREG: 1,"00A1","0B2C"`, `+CREG: 2,5,"00A1","0B2C"`}, RegRoaming},
		{[]string{`+CREG: 2,0,"0005","0B2C"`, `+CREG: 3,"0005","0B2C",7`}, RegNotSearching},
		{[]string{"+CREG: 3", "+CREG: 1,1"}, RegHome},
		{[]string{`+CEREG: 0,"00A1","00000B2C",7`, "+CEREG: 0,2"}, RegSearching},
	} {
		p := tc.lines[0][:strings.IndexByte(tc.lines[0], ':')+1]
		if got, err := parseReg(tc.lines, p); err != nil || got != tc.want {
			t.Errorf("parseReg(%q) = %v, %v; want %v", tc.lines, got, err, tc.want)
		}
	}
	if _, err := parseReg([]string{`+CREG: 1,"00A1","0B2C"`}, "+CREG:"); err == nil {
		t.Errorf("a report alone taken for the answer")
	}
	if betterReg(RegSearching, RegHome) != RegHome || betterReg(RegRoaming, RegDenied) != RegRoaming {
		t.Errorf("betterReg prefers the wrong state")
	}
}

func TestParseStorage(t *testing.T) {
	got, err := parseStorageList([]string{`+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")`})
	want := [][]string{{"SM", "ME", "SR"}, {"SM", "ME"}, {"SM", "ME"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseStorageList = %q, %v", got, err)
	}
	got, err = parseStorageList([]string{`+CPMS: "SM","SM","SM"`})
	if err != nil || !reflect.DeepEqual(got, [][]string{{"SM"}, {"SM"}, {"SM"}}) {
		t.Errorf("parseStorageList without parentheses = %q, %v", got, err)
	}
	for _, line := range []string{"+CPMS: 3,20,3,20,3,20", `+CPMS: "SM",3,20,"SM",3,20,"SM",3,20`} {
		u, tot, err := parseCPMSSet([]string{line})
		if err != nil || u != 3 || tot != 20 {
			t.Errorf("parseCPMSSet(%q) = %d, %d, %v", line, u, tot, err)
		}
	}
}

func TestCNMICandidates(t *testing.T) {
	sup, err := parseCNMITest([]string{"+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"})
	if err != nil {
		t.Fatal(err)
	}
	c := cnmiCandidates(sup)
	if c[0] != "2,1,0,2,0" {
		t.Errorf("first choice = %q, want 2,1,0,2,0 (store and indicate, reports stored)", c[0])
	}
	// A modem that offers only direct delivery and +CDS.
	sup, _ = parseCNMITest([]string{"+CNMI: (1),(2),(0),(1),(0)"})
	if c := cnmiCandidates(sup); c[0] != "1,2,0,1,0" {
		t.Errorf("direct-only modem: first choice %q", c[0])
	}
	// Without an answer to +CNMI=? the static list still starts sensibly.
	if c := cnmiCandidates(nil); c[0] != "2,1,0,2,0" || len(c) < 5 {
		t.Errorf("no =? answer: %q", c)
	}
	if _, err := parseCNMITest([]string{"+CNMI: (0-999999999)"}); err == nil {
		t.Errorf("absurd range accepted")
	}
}

func TestParseMessages(t *testing.T) {
	list, err := parseCMGL([]string{
		`+CMGL: 1,0,,24`, `07914477079000F0040C9144770090999900006211`,
		`+CMGL: 2,1,"x",20`, `0791447707`,
		`+CMGL: bad`,
	})
	if len(list) != 2 || list[0].Index != 1 || list[1].Stat != 1 || list[1].PDU != "0791447707" || err == nil {
		t.Errorf("parseCMGL = %+v, %v", list, err)
	}
	s, ok, err := parseCMGR([]string{`+CMGR: 0,,24`, `07AB`})
	if !ok || err != nil || s.PDU != "07AB" {
		t.Errorf("parseCMGR = %+v %v %v", s, ok, err)
	}
	if _, ok, err := parseCMGR(nil); ok || err != nil {
		t.Errorf("empty slot: ok=%v err=%v", ok, err)
	}
	if mr, err := parseCMGS([]string{"+CMGS: 231"}); mr != 231 || err != nil {
		t.Errorf("parseCMGS = %d, %v", mr, err)
	}
	if _, err := parseCMGS([]string{"+CMGS: 300"}); err == nil {
		t.Errorf("MR 300 accepted")
	}
	if st, i, err := parseIndication(`"sm",12`); st != "SM" || i != 12 || err != nil {
		t.Errorf("parseIndication = %q %d %v", st, i, err)
	}
}

func TestParseIdentity(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		min   int
		want  string
	}{
		{[]string{"356938035643809"}, 14, "356938035643809"},
		{[]string{"+CGSN: 356938035643809"}, 14, "356938035643809"},
		{[]string{`+CGSN: "356938035643809"`}, 14, "356938035643809"},
		{[]string{"+CCID: 8944110000000000016F"}, 18, "8944110000000000016"},
		{[]string{"+QCCID: 89860318760227633917"}, 18, "89860318760227633917"},
		{[]string{"^ICCID: 98681031098310024232"}, 18, "98681031098310024232"},
		{[]string{"ERROR-ish", "8944110000000000016"}, 18, "8944110000000000016"},
	} {
		if got, ok := parseDigits(tc.lines, tc.min); !ok || got != tc.want {
			t.Errorf("parseDigits(%q) = %q, %v; want %q", tc.lines, got, ok, tc.want)
		}
	}
	if got := parseCNUM([]string{`+CNUM: "Own","447700900123",145`}); got != "+447700900123" {
		t.Errorf("parseCNUM = %q", got)
	}
	if st, _ := parseCPIN([]string{"+CPIN: SIM PIN"}); st != SIMPIN {
		t.Errorf("parseCPIN = %q", st)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Class
	}{
		{fmt.Errorf("at: exec: %w", &at.CMSError{Code: 27, Text: "destination out of service"}), Temporary},
		{&at.CMSError{Code: 38}, Temporary},
		{&at.CMSError{Code: 41}, Temporary},
		{&at.CMSError{Code: 42}, Temporary},
		{&at.CMSError{Code: 47}, Temporary},
		{&at.CMSError{Code: 331}, Temporary},
		{&at.CMSError{Code: 332}, Temporary},
		{&at.CMSError{Code: 500}, Temporary},
		{&at.CMSError{Code: 1}, Permanent},
		{&at.CMSError{Code: 21}, Permanent},
		{&at.CMSError{Code: 29}, Permanent},
		{&at.CMSError{Code: 30}, Permanent},
		{&at.CMSError{Code: 50}, Permanent},
		{&at.CMSError{Code: 96}, Permanent},
		{&at.CMEError{Code: 14}, Temporary},
		{at.ErrError, Temporary},
		{fmt.Errorf("x: %w", at.ErrTimeout), Unknown},
		{fmt.Errorf("x: %w", at.ErrClosed), Unknown},
		{errors.New("mystery"), Unknown},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
	se := classifyCause(&at.CMSError{Code: 1})
	if se.Reason == "" || !errors.Is(se, se.Err) || se.Code != 1 {
		t.Errorf("SendError = %+v", se)
	}
	var cms *at.CMSError
	if !errors.As(error(se), &cms) {
		t.Errorf("SendError does not unwrap to *at.CMSError")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{Port: "/dev/ttyUSB2"}, true},
		{Config{Port: "tcp://10.0.0.5:7000"}, true},
		{Config{}, false},
		{Config{Port: "tcp://host"}, false},
		{Config{Port: "/dev/x", Flow: "xonxoff"}, false},
		{Config{Port: "/dev/x", PIN: "12a4"}, false},
		{Config{Port: "/dev/x", PIN: "12"}, false},
		{Config{Port: "/dev/x", PIN: "1234"}, true},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v", tc.cfg, err)
		}
	}
	d := Config{Port: "x"}.Defaults()
	if d.Baud != 115200 || d.CommandTimeout == 0 || d.PollInterval == 0 {
		t.Errorf("Defaults = %+v", d)
	}
}

// FuzzParsers feeds arbitrary modem output to every parser: none may panic.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		"+CSQ: 17,99", `+CPMS: ("SM","ME"),("SM"),("SM")`, "+CPMS: 1,20,1,20,1,20",
		"+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", "+CMGL: 1,0,,24\n0791", "+CMGR: 0,,3\n00", "+CMGS: 12",
		`+CNUM: "","+4412",145`, "+CREG: 0,1", `+COPS: 0,0,"x",7`, "+CPIN: READY", `"SM",3`, "+CCID: 8944F",
		"+CNMI: (", "((((", `"`, "+CMGL: ,,,\n", "+CNMI: (5-1)", "+CMGW: 3", "+CMSS: 255", "+CMSS: -1",
		"+CMGR: 2,,15\n0001000B914477009005F50000036137", "+CMGR: 3,,1\n09",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := splitLines(s)
		_, _ = parseCSQ(lines)
		_, _ = parseReg(lines, "+CREG:")
		_, _ = parseCOPS(lines)
		_, _ = parseCPIN(lines)
		if l, err := parseStorageList(lines); err == nil && len(l) == 0 {
			t.Errorf("parseStorageList: no error and no lists")
		}
		_, _, _ = parseCPMSSet(lines)
		if sup, err := parseCNMITest(lines); err == nil {
			_ = cnmiCandidates(sup)
		}
		_, _ = parseCMGL(lines)
		_, _, _ = parseCMGR(lines)
		_, _ = parseCMGS(lines)
		_, _, _ = parseIndication(s)
		_, _ = parseCSMSMT(lines)
		_ = parseCNUM(lines)
		_, _ = parseDigits(lines, 6)
		_ = firstText(lines, "+CGMI:")
		for _, p := range []string{"+CMGW:", "+CMSS:"} {
			if n, err := parseIndexLine(lines, p); err == nil && n < 0 {
				t.Errorf("parseIndexLine(%q) = %d", p, n)
			}
		}
		if st, ok, err := parseCMGR(lines); ok && err == nil {
			_ = sameSubmit(st.PDU, []byte{0x01, 0x00, 0x0b, 0x91, 0x44, 0x77, 0x00, 0x09, 0x05, 0xf5, 0x00, 0x00, 0x03, 0x61, 0x37})
		}
	})
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
