package pdu

import (
	"fmt"
	"strings"
)

// Language identifies a national language table of TS 23.038 §6.2.1.2.4. The
// numeric value is the one carried in the information elements 0x24 (single
// shift) and 0x25 (locking shift) of the user data header.
type Language byte

// The national languages of TS 23.038 Annex A. LanguageDefault (0) is the GSM
// 7-bit default alphabet and its extension table.
const (
	LanguageDefault    Language = 0
	LanguageTurkish    Language = 1
	LanguageSpanish    Language = 2
	LanguagePortuguese Language = 3
	LanguageBengali    Language = 4
	LanguageGujarati   Language = 5
	LanguageHindi      Language = 6
	LanguageKannada    Language = 7
	LanguageMalayalam  Language = 8
	LanguageOriya      Language = 9
	LanguagePunjabi    Language = 10
	LanguageTamil      Language = 11
	LanguageTelugu     Language = 12
	LanguageUrdu       Language = 13
)

var languageNames = [...]string{
	"default", "turkish", "spanish", "portuguese", "bengali", "gujarati", "hindi",
	"kannada", "malayalam", "oriya", "punjabi", "tamil", "telugu", "urdu",
}

// Languages lists every national language (not the default alphabet), in
// identifier order.
func Languages() []Language {
	out := make([]Language, 0, len(languageNames)-1)
	for i := 1; i < len(languageNames); i++ {
		out = append(out, Language(i))
	}
	return out
}

func (l Language) String() string {
	if int(l) < len(languageNames) {
		return languageNames[l]
	}
	return fmt.Sprintf("language(%d)", byte(l))
}

// ParseLanguage accepts a language name as String prints it (case does not
// matter) or its numeric identifier.
func ParseLanguage(s string) (Language, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range languageNames {
		if s == n || s == fmt.Sprint(i) {
			return Language(i), nil
		}
	}
	return 0, fmt.Errorf("pdu: unknown national language %q (want one of %s)", s, strings.Join(languageNames[:], ", "))
}
