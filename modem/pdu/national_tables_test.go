package pdu

import (
	"fmt"
	"testing"
)

// TestNationalTablePresence: every national language has a single shift
// table, every one but Spanish a locking shift table, and nothing else has
// either (the default alphabet lives in gsm7.go).
func TestNationalTablePresence(t *testing.T) {
	for _, l := range Languages() {
		if got := nationalLocking(l) != nil; got != (l != LanguageSpanish) {
			t.Errorf("%v: locking table present = %v", l, got)
		}
		if nationalSingle(l) == nil {
			t.Errorf("%v: no single shift table", l)
		}
	}
	for _, l := range []Language{LanguageDefault, 14, 0x7F, 0xFF} {
		if nationalLocking(l) != nil || nationalSingle(l) != nil {
			t.Errorf("%v: has a national table", l)
		}
	}
	if len(Languages()) != 13 {
		t.Errorf("Languages() = %v, want the 13 of Annex A", Languages())
	}
}

// TestNationalTableControls checks the positions every table shares: the
// escape is no character, the locking tables keep LF, CR and space where the
// default alphabet has them, and the single shift tables keep page break and
// the default extension characters at their default positions.
func TestNationalTableControls(t *testing.T) {
	for _, l := range Languages() {
		if lt := nationalLocking(l); lt != nil {
			for septet, want := range map[int]rune{0x0A: '\n', 0x0D: '\r', 0x1B: 0, 0x20: ' '} {
				if lt[septet] != want {
					t.Errorf("%v locking[0x%02X] = %U, want %U", l, septet, lt[septet], want)
				}
			}
		}
		st := nationalSingle(l)
		for septet, want := range map[int]rune{
			0x0A: '\f', 0x0D: 0, 0x1B: 0, 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
			0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
		} {
			if st[septet] != want {
				t.Errorf("%v single[0x%02X] = %U, want %U", l, septet, st[septet], want)
			}
		}
	}
}

// TestNationalTableEntries spot-checks entries of every table against the
// spec's Annex A, including the places where published transcriptions
// disagree (see the comment at the top of national_tables.go).
func TestNationalTableEntries(t *testing.T) {
	const L, S = true, false
	tests := []struct {
		lang    Language
		locking bool
		septet  int
		want    rune
	}{
		{LanguageTurkish, L, 0x04, '€'},
		{LanguageTurkish, L, 0x07, 'ı'},
		{LanguageTurkish, L, 0x0B, 'Ğ'},
		{LanguageTurkish, L, 0x1C, 'Ş'},
		{LanguageTurkish, L, 0x40, 'İ'},
		{LanguageTurkish, L, 0x60, 'ç'},
		{LanguageTurkish, S, 0x47, 'Ğ'},
		{LanguageTurkish, S, 0x49, 'İ'},
		{LanguageTurkish, S, 0x53, 'Ş'},
		{LanguageTurkish, S, 0x63, 'ç'},
		{LanguageTurkish, S, 0x69, 'ı'},
		{LanguageTurkish, S, 0x73, 'ş'},
		{LanguageTurkish, S, 0x41, 0},

		{LanguageSpanish, S, 0x09, 'ç'},
		{LanguageSpanish, S, 0x41, 'Á'},
		{LanguageSpanish, S, 0x49, 'Í'},
		{LanguageSpanish, S, 0x4F, 'Ó'},
		{LanguageSpanish, S, 0x55, 'Ú'},
		{LanguageSpanish, S, 0x61, 'á'},
		{LanguageSpanish, S, 0x75, 'ú'},
		{LanguageSpanish, S, 0x4E, 0},

		{LanguagePortuguese, L, 0x04, 'ê'},
		{LanguagePortuguese, L, 0x12, 'ª'},
		{LanguagePortuguese, L, 0x15, '∞'},
		{LanguagePortuguese, L, 0x17, '\\'},
		{LanguagePortuguese, L, 0x18, '€'},
		{LanguagePortuguese, L, 0x1A, '|'},
		{LanguagePortuguese, L, 0x24, 'º'},
		{LanguagePortuguese, L, 0x60, '~'},
		{LanguagePortuguese, L, 0x7D, '`'},
		{LanguagePortuguese, S, 0x05, 'ê'},
		{LanguagePortuguese, S, 0x12, 'Φ'},
		{LanguagePortuguese, S, 0x19, 'Θ'},
		{LanguagePortuguese, S, 0x1F, 'Ê'},
		{LanguagePortuguese, S, 0x41, 'À'},
		{LanguagePortuguese, S, 0x61, 'Â'},
		{LanguagePortuguese, S, 0x7F, 'â'},

		{LanguageBengali, L, 0x00, '\u0981'},
		{LanguageBengali, L, 0x0C, 0},
		{LanguageBengali, L, 0x1C, '\u099B'},
		{LanguageBengali, L, 0x28, ')'},
		{LanguageBengali, L, 0x29, '('},
		{LanguageBengali, L, 0x3C, 0},
		{LanguageBengali, L, 0x60, '\u09CE'},
		{LanguageBengali, L, 0x7F, '\u09F1'},
		{LanguageBengali, S, 0x19, '\u09E6'},
		{LanguageBengali, S, 0x24, '\u09DF'},
		{LanguageBengali, S, 0x34, '\u09FA'},
		{LanguageBengali, S, 0x35, 0},

		{LanguageGujarati, L, 0x0C, '\u0A8D'},
		{LanguageGujarati, L, 0x11, '\u0A91'},
		{LanguageGujarati, L, 0x60, '\u0AD0'},
		{LanguageGujarati, L, 0x7F, '\u0AF1'},
		{LanguageGujarati, S, 0x19, '\u0964'},
		{LanguageGujarati, S, 0x1C, '\u0AE6'},
		{LanguageGujarati, S, 0x25, '\u0AEF'},
		{LanguageGujarati, S, 0x26, 0},

		{LanguageHindi, L, 0x00, '\u0901'},
		{LanguageHindi, L, 0x02, '\u0903'},
		{LanguageHindi, L, 0x3C, '\u0929'},
		{LanguageHindi, L, 0x60, '\u0950'},
		{LanguageHindi, L, 0x7B, '\u0972'},
		{LanguageHindi, L, 0x7F, '\u097F'},
		{LanguageHindi, S, 0x26, '\u0951'},
		{LanguageHindi, S, 0x2C, '\u0958'},
		{LanguageHindi, S, 0x34, '\u095F'},
		{LanguageHindi, S, 0x3A, '\u0971'},

		{LanguageKannada, L, 0x00, 0},
		{LanguageKannada, L, 0x01, '\u0C82'},
		{LanguageKannada, L, 0x24, '\u0CA1'},
		{LanguageKannada, L, 0x3D, '\u0CAA'},
		{LanguageKannada, L, 0x60, '\u0CD5'},
		{LanguageKannada, S, 0x26, '\u0CDE'},
		{LanguageKannada, S, 0x2A, '\u0CF2'},
		{LanguageKannada, S, 0x2B, 0},

		{LanguageMalayalam, L, 0x4E, 0},
		{LanguageMalayalam, L, 0x48, '\u0D34'},
		{LanguageMalayalam, L, 0x7F, '\u0D79'},
		{LanguageMalayalam, S, 0x2E, '\u0D7A'},
		{LanguageMalayalam, S, 0x34, '\u0D7F'},

		{LanguageOriya, L, 0x00, '\u0B01'},
		{LanguageOriya, L, 0x60, '\u0B56'},
		{LanguageOriya, L, 0x7B, '\u0B57'},
		{LanguageOriya, S, 0x20, '\u0B6A'},
		{LanguageOriya, S, 0x26, '\u0B5C'},
		{LanguageOriya, S, 0x2C, '\u0B71'},

		{LanguagePunjabi, L, 0x09, 0},
		{LanguagePunjabi, L, 0x4E, '\u0A3C'},
		{LanguagePunjabi, L, 0x60, '\u0A51'},
		{LanguagePunjabi, L, 0x7F, '\u0A74'},
		{LanguagePunjabi, S, 0x26, '\u0A59'},
		{LanguagePunjabi, S, 0x2D, '\u0A75'},

		{LanguageTamil, L, 0x11, 0},
		{LanguageTamil, L, 0x15, '\u0B95'},
		{LanguageTamil, L, 0x16, 0},
		{LanguageTamil, L, 0x3C, '\u0BA9'},
		{LanguageTamil, L, 0x7F, '\u0BF9'},
		{LanguageTamil, S, 0x24, '\u0BEE'},
		{LanguageTamil, S, 0x25, '\u0BEF'},
		{LanguageTamil, S, 0x2E, '\u0BFA'},

		{LanguageTelugu, L, 0x11, 0},
		{LanguageTelugu, L, 0x60, '\u0C55'},
		{LanguageTelugu, L, 0x7B, '\u0C56'},
		{LanguageTelugu, S, 0x19, 0},
		{LanguageTelugu, S, 0x1A, 0},
		{LanguageTelugu, S, 0x1C, '\u0C66'},
		{LanguageTelugu, S, 0x22, '\u0C6C'},
		{LanguageTelugu, S, 0x23, '\u0C6D'},
		{LanguageTelugu, S, 0x32, '\u0C7F'},

		{LanguageUrdu, L, 0x00, '\u0627'},
		{LanguageUrdu, L, 0x08, '\u06C2'},
		{LanguageUrdu, L, 0x58, '\u0621'},
		{LanguageUrdu, L, 0x7F, '\u0670'},
		{LanguageUrdu, S, 0x19, '\u0600'},
		{LanguageUrdu, S, 0x26, '\u060C'},
		{LanguageUrdu, S, 0x3B, '\u06CD'},
		{LanguageUrdu, S, 0x3F, '\u06D4'},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%v/single/0x%02X", tt.lang, tt.septet)
		table := nationalSingle(tt.lang)
		if tt.locking {
			name = fmt.Sprintf("%v/locking/0x%02X", tt.lang, tt.septet)
			table = nationalLocking(tt.lang)
		}
		if got := table[tt.septet]; got != tt.want {
			t.Errorf("%s = %U, want %U", name, got, tt.want)
		}
	}
}

// TestNationalTableNoDuplicates: no table maps two septets to one character,
// except where the spec itself does ('*' and '¡' twice in the Indian and
// Urdu single shift tables); an encoder must pick the lower septet there.
func TestNationalTableNoDuplicates(t *testing.T) {
	allowed := map[rune][2]int{'*': {0x0B, 0x18}, '¡': {0x13, 0x15}}
	check := func(name string, table *[128]rune, allowDup bool) {
		seen := map[rune]int{}
		for septet, r := range table {
			if r == 0 {
				continue
			}
			if first, dup := seen[r]; dup {
				if a, ok := allowed[r]; !allowDup || !ok || a != [2]int{first, septet} {
					t.Errorf("%s: %q at 0x%02X and 0x%02X", name, r, first, septet)
				}
				continue
			}
			seen[r] = septet
		}
	}
	for _, l := range Languages() {
		if lt := nationalLocking(l); lt != nil {
			check(l.String()+" locking", lt, false)
		}
		indian := l >= LanguageBengali
		check(l.String()+" single", nationalSingle(l), indian)
	}
}

// TestNationalTableScripts: every letter outside ASCII in an Indian or Urdu
// table belongs to that language's Unicode block (or is the shared danda
// U+0964/U+0965). This catches a digit copied from a neighbouring script,
// the commonest slip in published tables.
func TestNationalTableScripts(t *testing.T) {
	blocks := map[Language][2]rune{
		LanguageBengali: {0x0980, 0x09FF}, LanguageGujarati: {0x0A80, 0x0AFF},
		LanguageHindi: {0x0900, 0x097F}, LanguageKannada: {0x0C80, 0x0CFF},
		LanguageMalayalam: {0x0D00, 0x0D7F}, LanguageOriya: {0x0B00, 0x0B7F},
		LanguagePunjabi: {0x0A00, 0x0A7F}, LanguageTamil: {0x0B80, 0x0BFF},
		LanguageTelugu: {0x0C00, 0x0C7F}, LanguageUrdu: {0x0600, 0x06FF},
	}
	// Characters the Indian and Urdu single shift tables take from the
	// default alphabet.
	latin := map[rune]bool{'£': true, '¥': true, '¿': true, '¤': true, '¡': true, '€': true}
	for l, b := range blocks {
		for kind, table := range map[string]*[128]rune{"locking": nationalLocking(l), "single": nationalSingle(l)} {
			for septet, r := range table {
				inBlock := r >= b[0] && r <= b[1]
				if r < 0x80 || inBlock || latin[r] || (kind == "single" && (r == 0x0964 || r == 0x0965)) {
					continue
				}
				t.Errorf("%v %s[0x%02X] = %U, outside %U..%U", l, kind, septet, r, b[0], b[1])
			}
		}
	}
}

// TestNationalTableSizes pins how many characters each table defines, so an
// entry lost or added by an edit shows up here.
func TestNationalTableSizes(t *testing.T) {
	want := map[Language][2]int{ // {locking, single}
		LanguageTurkish: {127, 17}, LanguageSpanish: {0, 19}, LanguagePortuguese: {127, 37},
		LanguageBengali: {114, 82}, LanguageGujarati: {120, 70}, LanguageHindi: {127, 88},
		LanguageKannada: {120, 73}, LanguageMalayalam: {120, 82}, LanguageOriya: {116, 75},
		LanguagePunjabi: {110, 76}, LanguageTamil: {102, 77}, LanguageTelugu: {120, 78},
		LanguageUrdu: {127, 90},
	}
	count := func(table *[128]rune) (n int) {
		if table == nil {
			return 0
		}
		for _, r := range table {
			if r != 0 {
				n++
			}
		}
		return n
	}
	for l, w := range want {
		if got := [2]int{count(nationalLocking(l)), count(nationalSingle(l))}; got != w {
			t.Errorf("%v: defined characters {locking, single} = %v, want %v", l, got, w)
		}
	}
}
