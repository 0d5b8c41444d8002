package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

const vectorsPath = "../../modem/pdu/testdata/pdu-vectors.json"

type vector struct {
	ID     string         `json:"id"`
	Type   string         `json:"type"`
	SMSC   bool           `json:"smsc"`
	Hex    string         `json:"hex"`
	Expect map[string]any `json:"expect"`
	Notes  string         `json:"notes"`
}

func loadVectors(t *testing.T) map[string]vector {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	m := map[string]vector{}
	for _, v := range f.Vectors {
		m[v.ID] = v
	}
	return m
}

// runPDUCmd runs "gsmgate pdu <args>" with stdin and returns exit status,
// stdout and stderr.
func runPDUCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	var code int
	if stdin == "" {
		code = run(append([]string{"pdu"}, args...), &out, &errb)
	} else {
		code = pduCommand(strings.NewReader(stdin))(args, &out, &errb)
	}
	return code, out.String(), errb.String()
}

// decodeArray runs "pdu decode" and parses its JSON array.
func decodeArray(t *testing.T, stdin string, args ...string) []map[string]any {
	t.Helper()
	code, out, errs := runPDUCmd(t, stdin, append([]string{"decode"}, args...)...)
	if code != 0 {
		t.Fatalf("pdu decode %v: exit %d, stderr %q", args, code, errs)
	}
	var arr []map[string]any
	if err := json.Unmarshal([]byte(out), &arr); err != nil {
		t.Fatalf("pdu decode output is not a JSON array: %v\n%s", err, out)
	}
	return arr
}

// vectorArgs are the decode flags a vector needs.
func vectorArgs(v vector) []string {
	var args []string
	if !v.SMSC {
		args = append(args, "--tpdu")
	}
	if v.Type == "SUBMIT" {
		args = append(args, "--mo")
	}
	return append(args, v.Hex)
}

// TestPDUDecodeVectors decodes every shared vector through the command and
// checks each field the vector states that the JSON carries.
func TestPDUDecodeVectors(t *testing.T) {
	vectors := loadVectors(t)
	if len(vectors) < 20 {
		t.Fatalf("only %d vectors loaded", len(vectors))
	}
	// JSON key of the command for a key of the vectors' "expect".
	keys := map[string]string{
		"smsc": "smsc", "originator": "originator", "originator_alphanumeric": "originator",
		"destination": "destination", "recipient": "recipient", "mr": "mr", "pid": "pid",
		"dcs": "dcs", "class": "class", "scts": "scts", "discharge": "discharge",
		"status": "status", "text": "text", "vp": "validity", "vp_absolute": "validity",
		"vp_enhanced": "validity",
	}
	for id, v := range vectors {
		t.Run(id, func(t *testing.T) {
			arr := decodeArray(t, "", vectorArgs(v)...)
			if len(arr) != 1 {
				t.Fatalf("got %d objects, want 1", len(arr))
			}
			got := arr[0]
			if got["type"] != v.Type {
				t.Errorf("type = %v, want %s", got["type"], v.Type)
			}
			for ek, want := range v.Expect {
				switch ek {
				case "text_prefix":
					if s, _ := got["text"].(string); !strings.HasPrefix(s, want.(string)) {
						t.Errorf("text = %q, want prefix %q", s, want)
					}
				case "concat", "ports":
					udh, _ := got["udh"].(map[string]any)
					part, _ := udh[ek].(map[string]any)
					for k, w := range want.(map[string]any) {
						if part[k] != w {
							t.Errorf("udh.%s.%s = %v, want %v", ek, k, part[k], w)
						}
					}
				default:
					key, ok := keys[ek]
					if !ok {
						continue // a field the command does not print (first_octet, udl, ...)
					}
					if !reflect.DeepEqual(got[key], want) {
						t.Errorf("%s = %#v, want %#v (vector key %s)", key, got[key], want, ek)
					}
				}
			}
			if v.Expect["dcs"] == 6.0 || strings.Contains(v.Notes, "8-bit") {
				if _, ok := got["text"]; ok {
					t.Errorf("8-bit data has a text key")
				}
				if got["encoding"] != "8bit" || got["data_hex"] == nil {
					t.Errorf("8-bit data: encoding %v, data_hex %v", got["encoding"], got["data_hex"])
				}
			}
		})
	}
}

// TestPDUDecodeKeysPerType: keys appear only where they apply.
func TestPDUDecodeKeysPerType(t *testing.T) {
	vectors := loadVectors(t)
	tests := []struct {
		id              string
		present, absent []string
	}{
		{"V1", []string{"smsc", "originator", "pid", "dcs", "encoding", "text", "scts"},
			[]string{"destination", "recipient", "mr", "status", "discharge", "validity", "udh", "class", "data_hex", "warnings"}},
		{"V2", []string{"destination", "mr", "pid", "dcs", "text"},
			[]string{"smsc", "originator", "recipient", "scts", "status", "validity"}},
		{"V16", []string{"smsc", "recipient", "mr", "scts", "discharge", "status"},
			[]string{"originator", "destination", "text", "encoding", "validity"}},
		{"V15", []string{"class"}, nil},
		{"V19", []string{"udh"}, nil},
	}
	for _, tt := range tests {
		got := decodeArray(t, "", vectorArgs(vectors[tt.id])...)[0]
		for _, k := range tt.present {
			if _, ok := got[k]; !ok {
				t.Errorf("%s: key %q missing: %v", tt.id, k, got)
			}
		}
		for _, k := range tt.absent {
			if _, ok := got[k]; ok {
				t.Errorf("%s: key %q present: %v", tt.id, k, got[k])
			}
		}
	}
}

// TestPDUDecodeReportsAndCommand: the types a gateway rarely sees print
// their type name and only the keys that apply, optional parameters when
// TP-PI announces them.
func TestPDUDecodeReportsAndCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"submit-report with all", []string{"--tpdu", "0107222061514574407F080400410042"}, map[string]any{
			"type": "SUBMIT-REPORT", "scts": "2022-02-16T15:54:47+01:00", "pid": 127.0, "dcs": 8.0, "encoding": "ucs2", "text": "AB"}},
		{"submit-report error", []string{"--tpdu", "01C50022206151457440"}, map[string]any{
			"type": "SUBMIT-REPORT", "scts": "2022-02-16T15:54:47+01:00"}},
		{"deliver-report with text", []string{"--tpdu", "--mo", "0004 02C834"}, map[string]any{
			"type": "DELIVER-REPORT", "encoding": "gsm7", "text": "Hi"}},
		{"deliver-report 8-bit", []string{"--tpdu", "--mo", "0006 04 03 010203"}, map[string]any{
			"type": "DELIVER-REPORT", "dcs": 4.0, "encoding": "8bit", "data_hex": "010203"}},
		{"deliver-report error", []string{"--tpdu", "--mo", "00D300"}, map[string]any{"type": "DELIVER-REPORT"}},
		{"command", []string{"--tpdu", "--mo", "22083F02050491214303AABBCC"}, map[string]any{
			"type": "COMMAND", "mr": 8.0, "pid": 63.0, "destination": "+1234", "data_hex": "AABBCC"}},
		{"command with smsc", []string{"--mo", "00 02070001050491214300"}, map[string]any{
			"type": "COMMAND", "smsc": "", "mr": 7.0, "pid": 0.0, "destination": "+1234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arr := decodeArray(t, "", tt.args...)
			if len(arr) != 1 || !reflect.DeepEqual(arr[0], tt.want) {
				t.Errorf("decoded %v\nwant %v", arr, tt.want)
			}
		})
	}
}

func TestPDUDecodeUDH(t *testing.T) {
	vectors := loadVectors(t)
	got := decodeArray(t, "", vectorArgs(vectors["V22"])...)[0]
	want := map[string]any{
		"ports":    map[string]any{"source": 9200.0, "destination": 2948.0},
		"elements": []any{map[string]any{"id": 5.0, "data": "0B8423F0"}},
	}
	udh, _ := got["udh"].(map[string]any)
	if !reflect.DeepEqual(udh, want) {
		t.Errorf("V22 udh = %#v, want %#v", udh, want)
	}
	got = decodeArray(t, "", vectorArgs(vectors["V6"])...)[0]
	want = map[string]any{
		"concat":   map[string]any{"ref": 192.0, "total": 3.0, "seq": 1.0, "ref_bits": 8.0},
		"elements": []any{map[string]any{"id": 0.0, "data": "C00301"}},
	}
	if udh, _ := got["udh"].(map[string]any); !reflect.DeepEqual(udh, want) {
		t.Errorf("V6 udh = %#v, want %#v", udh, want)
	}
}

func TestPDUDecodeJoin(t *testing.T) {
	vectors := loadVectors(t)
	arr := decodeArray(t, "", "--tpdu", "--join", vectors["V8"].Hex, vectors["V6"].Hex, vectors["V7"].Hex)
	if len(arr) != 4 {
		t.Fatalf("got %d objects, want 3 parts and the joined one", len(arr))
	}
	j := arr[3]
	if j["type"] != "joined" || j["parts"] != 3.0 || j["complete"] != true {
		t.Errorf("joined = %v", j)
	}
	want := "this is a very long message that does not fit in a single SMS message"
	if s, _ := j["text"].(string); !strings.HasPrefix(s, want) {
		t.Errorf("joined text = %q, want prefix %q", s, want)
	}

	// Two of three parts: joined, but not complete.
	arr = decodeArray(t, "", "--tpdu", "--join", vectors["V6"].Hex, vectors["V8"].Hex)
	if j := arr[len(arr)-1]; j["type"] != "joined" || j["parts"] != 2.0 || j["complete"] != false {
		t.Errorf("joined of 2 of 3 = %v", j)
	}
}

// TestPDUDecodeStdin reads a modem transcript: the +CMGR line's length
// (29) disagrees with the 27-octet TPDU of V18, which lenient decoding
// reports as a warning.
func TestPDUDecodeStdin(t *testing.T) {
	vectors := loadVectors(t)
	transcript := "AT+CMGR=3\r\n+CMGR: 0,,29\r\n" + vectors["V18"].Hex + "\r\n\r\nOK\r\n" + vectors["V1"].Hex + "\n"
	arr := decodeArray(t, transcript, "-")
	if len(arr) != 2 {
		t.Fatalf("got %d objects, want 2: %v", len(arr), arr)
	}
	if arr[0]["type"] != "STATUS-REPORT" || arr[0]["recipient"] != "+6285717373455" {
		t.Errorf("first = %v", arr[0])
	}
	if w, _ := arr[0]["warnings"].([]any); len(w) == 0 {
		t.Errorf("declared length 29 for 27 octets gave no warning: %v", arr[0])
	}
	if arr[1]["text"] != "Woot" {
		t.Errorf("second = %v", arr[1])
	}
}

// TestPDUDecodeListingDirection: in an AT+CMGL=4 listing, the <stat> of
// each +CMGL line says whether the PDU is a received message (0, 1) or a
// stored outgoing one (2, 3), so a mixed listing decodes without flags.
func TestPDUDecodeListingDirection(t *testing.T) {
	vectors := loadVectors(t)
	listing := "AT+CMGL=4\r\n" +
		"+CMGL: 1,1,,23\r\n" + vectors["V1"].Hex + "\r\n" +
		"+CMGL: 2,2,,20\r\n" + vectors["V11"].Hex + "\r\n" +
		"+CMGR: 3,,20\r\n" + vectors["V11"].Hex + "\r\n" +
		"\r\nOK\r\n"
	arr := decodeArray(t, listing, "-")
	if len(arr) != 3 {
		t.Fatalf("got %d objects: %v", len(arr), arr)
	}
	for i, want := range []string{"DELIVER", "SUBMIT", "SUBMIT"} {
		if arr[i]["type"] != want || arr[i]["warnings"] != nil {
			t.Errorf("PDU %d: type %v, warnings %v; want %s and none", i+1, arr[i]["type"], arr[i]["warnings"], want)
		}
	}
	if arr[1]["destination"] != "+79269965690" || arr[1]["text"] != "crap Δ" {
		t.Errorf("SUBMIT = %v", arr[1])
	}
	// --mt says otherwise, and wins: the SUBMIT is not one then.
	code, _, errs := runPDUCmd(t, listing, "decode", "--mt", "-")
	if code == 0 {
		arr = decodeArray(t, listing, "--mt", "-")
		if arr[1]["type"] == "SUBMIT" {
			t.Errorf("--mt ignored: %v", arr[1])
		}
	} else if !strings.Contains(errs, "PDU 2") {
		t.Errorf("--mt: stderr %q", errs)
	}
}

func TestPDUErrors(t *testing.T) {
	vectors := loadVectors(t)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no subcommand", nil, "usage"},
		{"unknown subcommand", []string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{"decode nothing", []string{"decode"}, "no PDU"},
		{"decode bad hex", []string{"decode", "07911614zz"}, "PDU 1"},
		{"decode truncated", []string{"decode", "07911614220991F1040B91"}, "PDU 1"},
		{"decode second bad", []string{"decode", vectors["V1"].Hex, "00"}, "PDU 2"},
		{"decode mo and mt", []string{"decode", "--mo", "--mt", vectors["V1"].Hex}, "exclude"},
		{"decode unknown flag", []string{"decode", "--frob", vectors["V1"].Hex}, "frob"},
		{"decode join inconsistent", []string{"decode", "--join", vectors["V4"].Hex}, "join"},
		{"encode no text", []string{"encode", "--to", "+12345"}, "TEXT"},
		{"encode no destination", []string{"encode", "hello"}, "--to"},
		{"encode two texts", []string{"encode", "a", "b"}, "TEXT"},
		{"encode gsm7 impossible", []string{"encode", "--to", "+12345", "--encoding", "gsm7", "漢字"}, "encode"},
		{"encode bad encoding", []string{"encode", "--to", "+12345", "--encoding", "latin1", "x"}, "--encoding"},
		{"encode bad national", []string{"encode", "--to", "+12345", "--national", "klingon", "x"}, "--national"},
		{"encode bad ref", []string{"encode", "--to", "+12345", "--ref", "256", "x"}, "--ref"},
		{"encode bad class", []string{"encode", "--to", "+12345", "--class", "4", "x"}, "--class"},
		{"encode bad validity", []string{"encode", "--to", "+12345", "--validity", "soon", "x"}, "--validity"},
		{"encode bad number", []string{"encode", "--to", "+12ab34567890123", "x"}, "--to"},
		{"count no text", []string{"count"}, "TEXT"},
		{"count bad national", []string{"count", "--national", "elvish", "x"}, "--national"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runPDUCmd(t, "", tt.args...)
			if code != 1 {
				t.Errorf("exit = %d, want 1 (stdout %q, stderr %q)", code, out, errs)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr = %q, want it to mention %q", errs, tt.stderr)
			}
		})
	}
}

func TestPDUHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"decode", "--help"}, {"encode", "-h"}, {"count", "--help"}} {
		code, out, errs := runPDUCmd(t, "", args...)
		if code != 0 || errs != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
		if !strings.Contains(out, "usage: gsmgate pdu") {
			t.Errorf("%v: stdout %q has no usage", args, out)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "pdu") {
		t.Errorf("gsmgate --help does not list pdu: %q", out.String())
	}
}

type encodeResult struct {
	Encoding string `json:"encoding"`
	Parts    []struct {
		PDU        string `json:"pdu"`
		TPDULength int    `json:"tpdu_length"`
	} `json:"parts"`
}

func encode(t *testing.T, stdin string, args ...string) encodeResult {
	t.Helper()
	code, out, errs := runPDUCmd(t, stdin, append([]string{"encode"}, args...)...)
	if code != 0 {
		t.Fatalf("pdu encode %v: exit %d, stderr %q", args, code, errs)
	}
	var r encodeResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("pdu encode output: %v\n%s", err, out)
	}
	return r
}

// TestPDUEncodeVectors re-encodes SUBMITs of the shared vectors byte for
// byte.
func TestPDUEncodeVectors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
		n    int
	}{
		// V2 with MR 0 (the modem assigns it) and the default SMSC prefix.
		{"V2", []string{"--to", "+12345", "Hello world"}, "0001000591214 3F500000BC8329BFD06DDDF723619", 20},
		// V11 exactly: SMSC, relative validity of 4 days (0xAA), "Δ".
		{"V11", []string{"--smsc", "+79262000331", "--to", "+79269965690", "--validity", "4d", "crap Δ"},
			"07919762020033F111000B919762995696F00000AA066379180E8200", 20},
		// V24: national number, unknown SMSC type, validity 0xFF (63 weeks).
		{"V24", []string{"--smsc", "1234", "--to", "1234", "--validity", "63w", "123456"},
			"038121431100048121430000FF0631D98C56B301", 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := encode(t, "", tt.args...)
			want := strings.ReplaceAll(tt.want, " ", "")
			if r.Encoding != "gsm7" || len(r.Parts) != 1 {
				t.Fatalf("got %+v", r)
			}
			if !strings.EqualFold(r.Parts[0].PDU, want) || r.Parts[0].TPDULength != tt.n {
				t.Errorf("pdu = %s (n %d)\nwant  %s (n %d)", r.Parts[0].PDU, r.Parts[0].TPDULength, want, tt.n)
			}
		})
	}
}

// TestPDUEncodeRoundTrip encodes, then decodes the parts with the command
// itself and checks what comes back.
func TestPDUEncodeRoundTrip(t *testing.T) {
	long := strings.Repeat("abcdefghij", 16) + "x" // 161 characters: two parts
	tests := []struct {
		name      string
		args      []string
		text      string
		encoding  string
		parts     int
		refBits   float64
		ref       float64
		national  bool
		srr       bool // TP-SRR expected in the first octet
		flagCheck func(t *testing.T, obj map[string]any)
	}{
		{name: "short", args: []string{"--to", "+4477001234", "hello"}, text: "hello", encoding: "gsm7", parts: 1},
		{name: "two parts", args: []string{"--to", "+4477001234", "--ref", "200", long}, text: long, encoding: "gsm7", parts: 2, refBits: 8, ref: 200},
		{name: "ref16", args: []string{"--to", "+4477001234", "--ref16", "--ref", "4660", long}, text: long, encoding: "gsm7", parts: 2, refBits: 16, ref: 4660},
		{name: "emoji", args: []string{"--to", "+4477001234", "smile 😁"}, text: "smile 😁", encoding: "ucs2", parts: 1},
		{name: "forced ucs2", args: []string{"--to", "+4477001234", "--encoding", "ucs2", "plain"}, text: "plain", encoding: "ucs2", parts: 1},
		{name: "turkish", args: []string{"--to", "+905321234567", "--national", "turkish", "Işık ğüzel"}, text: "Işık ğüzel", encoding: "gsm7", parts: 1,
			national: true},
		{name: "flags after text", args: []string{"flash", "--class", "0", "--status-report", "--to", "+4477001234"}, text: "flash", encoding: "gsm7", parts: 1, srr: true,
			flagCheck: func(t *testing.T, obj map[string]any) {
				if obj["class"] != 0.0 {
					t.Errorf("class = %v, want 0", obj["class"])
				}
			}},
		{name: "status report", args: []string{"--status-report", "--to", "+4477001234", "sr"}, text: "sr", encoding: "gsm7", parts: 1, srr: true},
		{name: "validity", args: []string{"--to", "+4477001234", "--validity", "12h", "v"}, text: "v", encoding: "gsm7", parts: 1,
			flagCheck: func(t *testing.T, obj map[string]any) {
				if obj["validity"] != "12 hours" {
					t.Errorf("validity = %v", obj["validity"])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := encode(t, "", tt.args...)
			if r.Encoding != tt.encoding || len(r.Parts) != tt.parts {
				t.Fatalf("encoding %s, %d parts; want %s, %d", r.Encoding, len(r.Parts), tt.encoding, tt.parts)
			}
			args := []string{"--mo", "--join"}
			for _, p := range r.Parts {
				if got := len(p.PDU)/2 - 1 - int(hexByte(t, p.PDU[:2])); got != p.TPDULength {
					t.Errorf("tpdu_length %d, but the pdu has %d TPDU octets", p.TPDULength, got)
				}
				fo := hexByte(t, p.PDU[len(p.PDU)-2*p.TPDULength:][:2])
				if fo&0x03 != 0x01 || (fo&0x20 != 0) != tt.srr {
					t.Errorf("first octet %02X: want SMS-SUBMIT, TP-SRR %v", fo, tt.srr)
				}
				if p.TPDULength > 140+13+12 { // header fields plus 140 octets of user data at most
					t.Errorf("tpdu_length %d too long", p.TPDULength)
				}
				args = append(args, p.PDU)
			}
			arr := decodeArray(t, "", args...)
			for i, obj := range arr[:len(arr)-1] {
				if obj["type"] != "SUBMIT" || obj["encoding"] != tt.encoding {
					t.Errorf("part %d: %v", i+1, obj)
				}
				udh, _ := obj["udh"].(map[string]any)
				if tt.parts > 1 {
					c, _ := udh["concat"].(map[string]any)
					if c["seq"] != float64(i+1) || c["total"] != float64(tt.parts) || c["ref_bits"] != tt.refBits || c["ref"] != tt.ref {
						t.Errorf("part %d concat = %v", i+1, c)
					}
				}
				if tt.national && udh["national"] == nil {
					t.Errorf("part %d has no national language element: %v", i+1, udh)
				}
				if tt.flagCheck != nil {
					tt.flagCheck(t, obj)
				}
			}
			if j := arr[len(arr)-1]; j["text"] != tt.text || j["complete"] != true {
				t.Errorf("joined = %v, want text %q", j, tt.text)
			}
		})
	}
}

func hexByte(t *testing.T, s string) byte {
	t.Helper()
	var b byte
	if _, err := fmt.Sscanf(s, "%02X", &b); err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func TestPDUEncodeStdin(t *testing.T) {
	r := encode(t, "Hello from stdin\n", "--to", "+4477001234", "--ref", "1", "-")
	arr := decodeArray(t, "", "--mo", r.Parts[0].PDU)
	if arr[0]["text"] != "Hello from stdin" {
		t.Errorf("text = %q", arr[0]["text"])
	}
}

// TestPDUEncodeRandomRef: without --ref a multi-part text gets some
// reference, the same in all its parts.
func TestPDUEncodeRandomRef(t *testing.T) {
	r := encode(t, "", "--to", "+4477001234", strings.Repeat("x", 400))
	if len(r.Parts) != 3 {
		t.Fatalf("%d parts, want 3", len(r.Parts))
	}
	var args []string
	for _, p := range r.Parts {
		args = append(args, p.PDU)
	}
	arr := decodeArray(t, "", append([]string{"--mo"}, args...)...)
	ref := arr[0]["udh"].(map[string]any)["concat"].(map[string]any)["ref"]
	for _, o := range arr[1:] {
		if got := o["udh"].(map[string]any)["concat"].(map[string]any)["ref"]; got != ref {
			t.Errorf("ref %v in one part, %v in another", ref, got)
		}
	}
}

func TestPDUCount(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ascii", []string{"hello"},
			`{"encoding":"gsm7","characters":5,"units":5,"parts":1,"per_part":160,"remaining":155,"unicode_forcing":[]}`},
		{"full part", []string{strings.Repeat("a", 160)},
			`{"encoding":"gsm7","characters":160,"units":160,"parts":1,"per_part":160,"remaining":0,"unicode_forcing":[]}`},
		{"two parts", []string{strings.Repeat("a", 161)},
			`{"encoding":"gsm7","characters":161,"units":161,"parts":2,"per_part":153,"remaining":145,"unicode_forcing":[]}`},
		{"escape counts two", []string{"a€"},
			`{"encoding":"gsm7","characters":2,"units":3,"parts":1,"per_part":160,"remaining":157,"unicode_forcing":[]}`},
		{"curly quote", []string{"it’s"},
			`{"encoding":"ucs2","characters":4,"units":4,"parts":1,"per_part":70,"remaining":66,"unicode_forcing":[{"char":"’","index":2}]}`},
		{"emoji surrogates", []string{"😁😁"},
			`{"encoding":"ucs2","characters":2,"units":4,"parts":1,"per_part":70,"remaining":66,"unicode_forcing":[{"char":"😁","index":0},{"char":"😁","index":1}]}`},
		{"ucs2 two parts", []string{strings.Repeat("ж", 71)},
			`{"encoding":"ucs2","characters":71,"units":71,"parts":2,"per_part":67,"remaining":63,"unicode_forcing":[` +
				strings.TrimSuffix(strings.Repeat(`{"char":"ж","index":%d},`, 71), ",") + `]}`},
		// ı and ş are in the Turkish locking table (1 septet each) and its
		// single shift table (2 each). Locking alone (header 0x25: 155 per
		// part) leaves 153; single shift alone 151; both (152 per part) 150.
		{"national turkish", []string{"--national", "turkish", "ış"},
			`{"encoding":"gsm7","characters":2,"units":2,"parts":1,"per_part":155,"remaining":153,"unicode_forcing":[],"national":{"locking":"turkish","single":"default"}}`},
		{"national needed", []string{"ış"},
			`{"encoding":"ucs2","characters":2,"units":2,"parts":1,"per_part":70,"remaining":68,"unicode_forcing":[{"char":"ı","index":0},{"char":"ş","index":1}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if strings.Contains(want, "%d") {
				idx := make([]any, 71)
				for i := range idx {
					idx[i] = i
				}
				want = fmt.Sprintf(want, idx...)
			}
			code, out, errs := runPDUCmd(t, "", append([]string{"count"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			var got, exp any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output: %v\n%s", err, out)
			}
			if err := json.Unmarshal([]byte(want), &exp); err != nil {
				t.Fatalf("want: %v", err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("count %v\n got %s\nwant %s", tt.args, strings.Join(strings.Fields(out), ""), want)
			}
		})
	}
}

func TestPDUCountStdin(t *testing.T) {
	code, out, errs := runPDUCmd(t, "two\nlines\n", "count", "-")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c["characters"] != 9.0 { // "two\nlines": the final line break is dropped
		t.Errorf("characters = %v, want 9", c["characters"])
	}
}

// FuzzReadPDULines: any transcript splits into non-empty PDU lines with a
// positive declared length or none.
func FuzzReadPDULines(f *testing.F) {
	f.Add("AT+CMGR=3\r\n+CMGR: 0,,29\r\n07912658050000F006010D91265817373754F501010161705382010101617083820000\r\n\r\nOK\r\n")
	f.Add("+CMT: ,24\n00040B911234567890F000000250100173832305C8329BFD06\n")
	f.Add("+CMGL: 1,0,,-3\n00\n+CDS: 99999999999999999999\nzz\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := readPDULines(strings.NewReader(s))
		if err != nil {
			t.Fatal(err) // a strings.Reader does not fail
		}
		for _, p := range in {
			if p.hex == "" || strings.ContainsAny(p.hex, "\r\n") || p.length < 0 {
				t.Errorf("bad input %+v from %q", p, s)
			}
		}
	})
}

// FuzzPDUDecodeCommand runs "pdu decode --join -" on any stdin: it never
// panics, exits 0 or 1, and on 0 prints a JSON array with one object per
// PDU line plus the joined one.
func FuzzPDUDecodeCommand(f *testing.F) {
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		f.Fatal(err)
	}
	var vf struct{ Vectors []vector }
	if err := json.Unmarshal(b, &vf); err != nil {
		f.Fatal(err)
	}
	for _, v := range vf.Vectors {
		f.Add(v.Hex, !v.SMSC, v.Type == "SUBMIT")
	}
	f.Add("+CMGR: 0,,29\n07912658050000F006010D91265817373754F501010161705382010101617083820000\n", false, false)
	f.Fuzz(func(t *testing.T, stdin string, tpdu, mo bool) {
		args := []string{"decode", "--join"}
		if tpdu {
			args = append(args, "--tpdu")
		}
		if mo {
			args = append(args, "--mo")
		}
		var out, errb bytes.Buffer
		code := pduCommand(strings.NewReader(stdin))(append(args, "-"), &out, &errb)
		switch code {
		case 1:
			if out.Len() != 0 || errb.Len() == 0 {
				t.Errorf("exit 1 with stdout %q, stderr %q", out.String(), errb.String())
			}
		case 0:
			var arr []map[string]any
			if err := json.Unmarshal(out.Bytes(), &arr); err != nil || len(arr) < 2 {
				t.Errorf("exit 0 with output %q (%v)", out.String(), err)
			} else if arr[len(arr)-1]["type"] != "joined" {
				t.Errorf("last object %v is not the joined one", arr[len(arr)-1])
			}
		default:
			t.Errorf("exit %d", code)
		}
	})
}
