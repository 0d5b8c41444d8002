package pdu

// The national language tables of TS 23.038 Annex A, one [128]rune per table,
// indexed by septet. 0 means the spec puts no character there; the escape
// position 0x1B is always 0 (it is the escape itself, or SS2 in a single
// shift table) and so is 0x0D of a single shift table (CR2, a control
// function, not a character). 0x0A of a single shift table is the page break
// (form feed) as in the default extension table.
//
// These arrays are never written: the codec hands out pointers to them, and
// they are shared by every goroutine.
//
// The data was checked entry by entry against three independent
// transcriptions of the spec (AOSP's GsmAlphabet, warthog618/sms and
// CyberChef's tables from TS 23.038 V16.0.0). Where they disagree we follow
// the majority, which is also the obvious intent of the spec:
//   - Kannada locking 0x24 is U+0CA1 (ಡ): the spec prints U+0CAA, which it
//     also has at 0x3D; 0x22..0x27 run U+0C9F..U+0CA4.
//   - Tamil and Telugu locking 0x11 are empty: the spec prints U+0B91 and
//     U+0C11, code points Unicode has never assigned.
//   - Tamil single 0x24 is U+0BEE (௮): older spec versions print U+0BEF twice.
//   - Telugu single 0x1C is U+0C66 (౦) and Oriya single 0x20 is U+0B6A (୪):
//     some transcriptions carry the Kannada/Tamil digit there.
//   - Portuguese single 0x05 (ê) and 0x1F (Ê) are present.
//   - Hindi locking 0x00..0x02 are Devanagari U+0901..U+0903 (one library
//     has the Bengali signs there).
//
// The spec itself repeats a few characters inside one table, and so do we:
// in every Indian and the Urdu single shift table '¡' sits at 0x13 and 0x15
// and '*' at 0x0B and 0x18. An encoder takes the lower septet.

// nationalLocking returns the locking shift table of l (TS 23.038 §A.3): the
// character for each septet 0x00..0x7F, or nil when the spec defines no
// locking table for l (Spanish has only a single shift table).
// Entries the spec leaves empty hold 0 (no character).
func nationalLocking(l Language) *[128]rune {
	switch l {
	case LanguageTurkish:
		return &turkishLocking
	case LanguagePortuguese:
		return &portugueseLocking
	case LanguageBengali:
		return &bengaliLocking
	case LanguageGujarati:
		return &gujaratiLocking
	case LanguageHindi:
		return &hindiLocking
	case LanguageKannada:
		return &kannadaLocking
	case LanguageMalayalam:
		return &malayalamLocking
	case LanguageOriya:
		return &oriyaLocking
	case LanguagePunjabi:
		return &punjabiLocking
	case LanguageTamil:
		return &tamilLocking
	case LanguageTelugu:
		return &teluguLocking
	case LanguageUrdu:
		return &urduLocking
	}
	return nil
}

// nationalSingle returns the single shift table of l (TS 23.038 §A.2): the
// character for each septet that follows an escape (0x1B), or nil when the
// spec defines none. Entries the spec leaves empty hold 0.
func nationalSingle(l Language) *[128]rune {
	switch l {
	case LanguageTurkish:
		return &turkishSingle
	case LanguageSpanish:
		return &spanishSingle
	case LanguagePortuguese:
		return &portugueseSingle
	case LanguageBengali:
		return &bengaliSingle
	case LanguageGujarati:
		return &gujaratiSingle
	case LanguageHindi:
		return &hindiSingle
	case LanguageKannada:
		return &kannadaSingle
	case LanguageMalayalam:
		return &malayalamSingle
	case LanguageOriya:
		return &oriyaSingle
	case LanguagePunjabi:
		return &punjabiSingle
	case LanguageTamil:
		return &tamilSingle
	case LanguageTelugu:
		return &teluguSingle
	case LanguageUrdu:
		return &urduSingle
	}
	return nil
}

// turkishLocking is A.3.1, the Turkish national language locking shift table.
var turkishLocking = [128]rune{
	'@', '£', '$', '¥', '€', 'é', 'ù', 'ı', 'ò', 'Ç', '\n', 'Ğ', 'ğ', '\r', 'Å', 'å', // 0x00
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0, 'Ş', 'ş', 'ß', 'É', // 0x10
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', // 0x30
	'İ', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', // 0x50
	'ç', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', // 0x70
}

// turkishSingle is A.2.1, the Turkish national language single shift table.
var turkishSingle = [128]rune{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\f', 0, 0, 0, 0, 0, // 0x00
	0, 0, 0, 0, '^', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x10
	0, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, 0, 0, 0, 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 0, 0, 0, 0, 0, 0, 'Ğ', 0, 'İ', 0, 0, 0, 0, 0, 0, // 0x40
	0, 0, 0, 'Ş', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 'ç', 0, '€', 0, 'ğ', 0, 'ı', 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 'ş', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// spanishSingle is A.2.2, the Spanish national language single shift table.
var spanishSingle = [128]rune{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 'ç', '\f', 0, 0, 0, 0, 0, // 0x00
	0, 0, 0, 0, '^', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x10
	0, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, 0, 0, 0, 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'Á', 0, 0, 0, 0, 0, 0, 0, 'Í', 0, 0, 0, 0, 0, 'Ó', // 0x40
	0, 0, 0, 0, 0, 'Ú', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x50
	0, 'á', 0, 0, 0, '€', 0, 0, 0, 'í', 0, 0, 0, 0, 0, 'ó', // 0x60
	0, 0, 0, 0, 0, 'ú', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// portugueseLocking is A.3.3, the Portuguese national language locking shift table.
var portugueseLocking = [128]rune{
	'@', '£', '$', '¥', 'ê', 'é', 'ú', 'í', 'ó', 'ç', '\n', 'Ô', 'ô', '\r', 'Á', 'á', // 0x00
	'Δ', '_', 'ª', 'Ç', 'À', '∞', '^', '\\', '€', 'Ó', '|', 0, 'Â', 'â', 'Ê', 'É', // 0x10
	' ', '!', '"', '#', 'º', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', // 0x30
	'Í', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ã', 'Õ', 'Ú', 'Ü', '§', // 0x50
	'~', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ã', 'õ', '`', 'ü', 'à', // 0x70
}

// portugueseSingle is A.2.3, the Portuguese national language single shift table.
var portugueseSingle = [128]rune{
	0, 0, 0, 0, 0, 'ê', 0, 0, 0, 'ç', '\f', 'Ô', 'ô', 0, 'Á', 'á', // 0x00
	0, 0, 'Φ', 'Γ', '^', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 0, 0, 0, 0, 0, 'Ê', // 0x10
	0, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, 0, 0, 0, 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'À', 0, 0, 0, 0, 0, 0, 0, 'Í', 0, 0, 0, 0, 0, 'Ó', // 0x40
	0, 0, 0, 0, 0, 'Ú', 0, 0, 0, 0, 0, 'Ã', 'Õ', 0, 0, 0, // 0x50
	0, 'Â', 0, 0, 0, '€', 0, 0, 0, 'í', 0, 0, 0, 0, 0, 'ó', // 0x60
	0, 0, 0, 0, 0, 'ú', 0, 0, 0, 0, 0, 'ã', 'õ', 0, 0, 'â', // 0x70
}

// bengaliLocking is A.3.4, the Bengali national language locking shift table.
var bengaliLocking = [128]rune{
	'\u0981', '\u0982', '\u0983', '\u0985', '\u0986', '\u0987', '\u0988', '\u0989', '\u098A', '\u098B', '\n', '\u098C', 0, '\r', 0, '\u098F', // 0x00
	'\u0990', 0, 0, '\u0993', '\u0994', '\u0995', '\u0996', '\u0997', '\u0998', '\u0999', '\u099A', 0, '\u099B', '\u099C', '\u099D', '\u099E', // 0x10
	' ', '!', '\u099F', '\u09A0', '\u09A1', '\u09A2', '\u09A3', '\u09A4', ')', '(', '\u09A5', '\u09A6', ',', '\u09A7', '.', '\u09A8', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u09AA', '\u09AB', '?', // 0x30
	'\u09AC', '\u09AD', '\u09AE', '\u09AF', '\u09B0', 0, '\u09B2', 0, 0, 0, '\u09B6', '\u09B7', '\u09B8', '\u09B9', '\u09BC', '\u09BD', // 0x40
	'\u09BE', '\u09BF', '\u09C0', '\u09C1', '\u09C2', '\u09C3', '\u09C4', 0, 0, '\u09C7', '\u09C8', 0, 0, '\u09CB', '\u09CC', '\u09CD', // 0x50
	'\u09CE', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u09D7', '\u09DC', '\u09DD', '\u09F0', '\u09F1', // 0x70
}

// bengaliSingle is A.2.4, the Bengali national language single shift table.
var bengaliSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u09E6', '\u09E7', 0, '\u09E8', '\u09E9', '\u09EA', '\u09EB', // 0x10
	'\u09EC', '\u09ED', '\u09EE', '\u09EF', '\u09DF', '\u09E0', '\u09E1', '\u09E2', '{', '}', '\u09E3', '\u09F2', '\u09F3', '\u09F4', '\u09F5', '\\', // 0x20
	'\u09F6', '\u09F7', '\u09F8', '\u09F9', '\u09FA', 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// gujaratiLocking is A.3.5, the Gujarati national language locking shift table.
var gujaratiLocking = [128]rune{
	'\u0A81', '\u0A82', '\u0A83', '\u0A85', '\u0A86', '\u0A87', '\u0A88', '\u0A89', '\u0A8A', '\u0A8B', '\n', '\u0A8C', '\u0A8D', '\r', 0, '\u0A8F', // 0x00
	'\u0A90', '\u0A91', 0, '\u0A93', '\u0A94', '\u0A95', '\u0A96', '\u0A97', '\u0A98', '\u0A99', '\u0A9A', 0, '\u0A9B', '\u0A9C', '\u0A9D', '\u0A9E', // 0x10
	' ', '!', '\u0A9F', '\u0AA0', '\u0AA1', '\u0AA2', '\u0AA3', '\u0AA4', ')', '(', '\u0AA5', '\u0AA6', ',', '\u0AA7', '.', '\u0AA8', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u0AAA', '\u0AAB', '?', // 0x30
	'\u0AAC', '\u0AAD', '\u0AAE', '\u0AAF', '\u0AB0', 0, '\u0AB2', '\u0AB3', 0, '\u0AB5', '\u0AB6', '\u0AB7', '\u0AB8', '\u0AB9', '\u0ABC', '\u0ABD', // 0x40
	'\u0ABE', '\u0ABF', '\u0AC0', '\u0AC1', '\u0AC2', '\u0AC3', '\u0AC4', '\u0AC5', 0, '\u0AC7', '\u0AC8', '\u0AC9', 0, '\u0ACB', '\u0ACC', '\u0ACD', // 0x50
	'\u0AD0', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0AE0', '\u0AE1', '\u0AE2', '\u0AE3', '\u0AF1', // 0x70
}

// gujaratiSingle is A.2.5, the Gujarati national language single shift table.
var gujaratiSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0AE6', '\u0AE7', '\u0AE8', '\u0AE9', // 0x10
	'\u0AEA', '\u0AEB', '\u0AEC', '\u0AED', '\u0AEE', '\u0AEF', 0, 0, '{', '}', 0, 0, 0, 0, 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// hindiLocking is A.3.6, the Hindi national language locking shift table.
var hindiLocking = [128]rune{
	'\u0901', '\u0902', '\u0903', '\u0905', '\u0906', '\u0907', '\u0908', '\u0909', '\u090A', '\u090B', '\n', '\u090C', '\u090D', '\r', '\u090E', '\u090F', // 0x00
	'\u0910', '\u0911', '\u0912', '\u0913', '\u0914', '\u0915', '\u0916', '\u0917', '\u0918', '\u0919', '\u091A', 0, '\u091B', '\u091C', '\u091D', '\u091E', // 0x10
	' ', '!', '\u091F', '\u0920', '\u0921', '\u0922', '\u0923', '\u0924', ')', '(', '\u0925', '\u0926', ',', '\u0927', '.', '\u0928', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '\u0929', '\u092A', '\u092B', '?', // 0x30
	'\u092C', '\u092D', '\u092E', '\u092F', '\u0930', '\u0931', '\u0932', '\u0933', '\u0934', '\u0935', '\u0936', '\u0937', '\u0938', '\u0939', '\u093C', '\u093D', // 0x40
	'\u093E', '\u093F', '\u0940', '\u0941', '\u0942', '\u0943', '\u0944', '\u0945', '\u0946', '\u0947', '\u0948', '\u0949', '\u094A', '\u094B', '\u094C', '\u094D', // 0x50
	'\u0950', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0972', '\u097B', '\u097C', '\u097E', '\u097F', // 0x70
}

// hindiSingle is A.2.6, the Hindi national language single shift table.
var hindiSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0966', '\u0967', '\u0968', '\u0969', // 0x10
	'\u096A', '\u096B', '\u096C', '\u096D', '\u096E', '\u096F', '\u0951', '\u0952', '{', '}', '\u0953', '\u0954', '\u0958', '\u0959', '\u095A', '\\', // 0x20
	'\u095B', '\u095C', '\u095D', '\u095E', '\u095F', '\u0960', '\u0961', '\u0962', '\u0963', '\u0970', '\u0971', 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// kannadaLocking is A.3.7, the Kannada national language locking shift table.
var kannadaLocking = [128]rune{
	0, '\u0C82', '\u0C83', '\u0C85', '\u0C86', '\u0C87', '\u0C88', '\u0C89', '\u0C8A', '\u0C8B', '\n', '\u0C8C', 0, '\r', '\u0C8E', '\u0C8F', // 0x00
	'\u0C90', 0, '\u0C92', '\u0C93', '\u0C94', '\u0C95', '\u0C96', '\u0C97', '\u0C98', '\u0C99', '\u0C9A', 0, '\u0C9B', '\u0C9C', '\u0C9D', '\u0C9E', // 0x10
	' ', '!', '\u0C9F', '\u0CA0', '\u0CA1', '\u0CA2', '\u0CA3', '\u0CA4', ')', '(', '\u0CA5', '\u0CA6', ',', '\u0CA7', '.', '\u0CA8', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u0CAA', '\u0CAB', '?', // 0x30
	'\u0CAC', '\u0CAD', '\u0CAE', '\u0CAF', '\u0CB0', '\u0CB1', '\u0CB2', '\u0CB3', 0, '\u0CB5', '\u0CB6', '\u0CB7', '\u0CB8', '\u0CB9', '\u0CBC', '\u0CBD', // 0x40
	'\u0CBE', '\u0CBF', '\u0CC0', '\u0CC1', '\u0CC2', '\u0CC3', '\u0CC4', 0, '\u0CC6', '\u0CC7', '\u0CC8', 0, '\u0CCA', '\u0CCB', '\u0CCC', '\u0CCD', // 0x50
	'\u0CD5', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0CD6', '\u0CE0', '\u0CE1', '\u0CE2', '\u0CE3', // 0x70
}

// kannadaSingle is A.2.7, the Kannada national language single shift table.
var kannadaSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0CE6', '\u0CE7', '\u0CE8', '\u0CE9', // 0x10
	'\u0CEA', '\u0CEB', '\u0CEC', '\u0CED', '\u0CEE', '\u0CEF', '\u0CDE', '\u0CF1', '{', '}', '\u0CF2', 0, 0, 0, 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// malayalamLocking is A.3.8, the Malayalam national language locking shift table.
var malayalamLocking = [128]rune{
	0, '\u0D02', '\u0D03', '\u0D05', '\u0D06', '\u0D07', '\u0D08', '\u0D09', '\u0D0A', '\u0D0B', '\n', '\u0D0C', 0, '\r', '\u0D0E', '\u0D0F', // 0x00
	'\u0D10', 0, '\u0D12', '\u0D13', '\u0D14', '\u0D15', '\u0D16', '\u0D17', '\u0D18', '\u0D19', '\u0D1A', 0, '\u0D1B', '\u0D1C', '\u0D1D', '\u0D1E', // 0x10
	' ', '!', '\u0D1F', '\u0D20', '\u0D21', '\u0D22', '\u0D23', '\u0D24', ')', '(', '\u0D25', '\u0D26', ',', '\u0D27', '.', '\u0D28', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u0D2A', '\u0D2B', '?', // 0x30
	'\u0D2C', '\u0D2D', '\u0D2E', '\u0D2F', '\u0D30', '\u0D31', '\u0D32', '\u0D33', '\u0D34', '\u0D35', '\u0D36', '\u0D37', '\u0D38', '\u0D39', 0, '\u0D3D', // 0x40
	'\u0D3E', '\u0D3F', '\u0D40', '\u0D41', '\u0D42', '\u0D43', '\u0D44', 0, '\u0D46', '\u0D47', '\u0D48', 0, '\u0D4A', '\u0D4B', '\u0D4C', '\u0D4D', // 0x50
	'\u0D57', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0D60', '\u0D61', '\u0D62', '\u0D63', '\u0D79', // 0x70
}

// malayalamSingle is A.2.8, the Malayalam national language single shift table.
var malayalamSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0D66', '\u0D67', '\u0D68', '\u0D69', // 0x10
	'\u0D6A', '\u0D6B', '\u0D6C', '\u0D6D', '\u0D6E', '\u0D6F', '\u0D70', '\u0D71', '{', '}', '\u0D72', '\u0D73', '\u0D74', '\u0D75', '\u0D7A', '\\', // 0x20
	'\u0D7B', '\u0D7C', '\u0D7D', '\u0D7E', '\u0D7F', 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// oriyaLocking is A.3.9, the Oriya national language locking shift table.
var oriyaLocking = [128]rune{
	'\u0B01', '\u0B02', '\u0B03', '\u0B05', '\u0B06', '\u0B07', '\u0B08', '\u0B09', '\u0B0A', '\u0B0B', '\n', '\u0B0C', 0, '\r', 0, '\u0B0F', // 0x00
	'\u0B10', 0, 0, '\u0B13', '\u0B14', '\u0B15', '\u0B16', '\u0B17', '\u0B18', '\u0B19', '\u0B1A', 0, '\u0B1B', '\u0B1C', '\u0B1D', '\u0B1E', // 0x10
	' ', '!', '\u0B1F', '\u0B20', '\u0B21', '\u0B22', '\u0B23', '\u0B24', ')', '(', '\u0B25', '\u0B26', ',', '\u0B27', '.', '\u0B28', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u0B2A', '\u0B2B', '?', // 0x30
	'\u0B2C', '\u0B2D', '\u0B2E', '\u0B2F', '\u0B30', 0, '\u0B32', '\u0B33', 0, '\u0B35', '\u0B36', '\u0B37', '\u0B38', '\u0B39', '\u0B3C', '\u0B3D', // 0x40
	'\u0B3E', '\u0B3F', '\u0B40', '\u0B41', '\u0B42', '\u0B43', '\u0B44', 0, 0, '\u0B47', '\u0B48', 0, 0, '\u0B4B', '\u0B4C', '\u0B4D', // 0x50
	'\u0B56', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0B57', '\u0B60', '\u0B61', '\u0B62', '\u0B63', // 0x70
}

// oriyaSingle is A.2.9, the Oriya national language single shift table.
var oriyaSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0B66', '\u0B67', '\u0B68', '\u0B69', // 0x10
	'\u0B6A', '\u0B6B', '\u0B6C', '\u0B6D', '\u0B6E', '\u0B6F', '\u0B5C', '\u0B5D', '{', '}', '\u0B5F', '\u0B70', '\u0B71', 0, 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// punjabiLocking is A.3.10, the Punjabi national language locking shift table.
var punjabiLocking = [128]rune{
	'\u0A01', '\u0A02', '\u0A03', '\u0A05', '\u0A06', '\u0A07', '\u0A08', '\u0A09', '\u0A0A', 0, '\n', 0, 0, '\r', 0, '\u0A0F', // 0x00
	'\u0A10', 0, 0, '\u0A13', '\u0A14', '\u0A15', '\u0A16', '\u0A17', '\u0A18', '\u0A19', '\u0A1A', 0, '\u0A1B', '\u0A1C', '\u0A1D', '\u0A1E', // 0x10
	' ', '!', '\u0A1F', '\u0A20', '\u0A21', '\u0A22', '\u0A23', '\u0A24', ')', '(', '\u0A25', '\u0A26', ',', '\u0A27', '.', '\u0A28', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u0A2A', '\u0A2B', '?', // 0x30
	'\u0A2C', '\u0A2D', '\u0A2E', '\u0A2F', '\u0A30', 0, '\u0A32', '\u0A33', 0, '\u0A35', '\u0A36', 0, '\u0A38', '\u0A39', '\u0A3C', 0, // 0x40
	'\u0A3E', '\u0A3F', '\u0A40', '\u0A41', '\u0A42', 0, 0, 0, 0, '\u0A47', '\u0A48', 0, 0, '\u0A4B', '\u0A4C', '\u0A4D', // 0x50
	'\u0A51', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0A70', '\u0A71', '\u0A72', '\u0A73', '\u0A74', // 0x70
}

// punjabiSingle is A.2.10, the Punjabi national language single shift table.
var punjabiSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0A66', '\u0A67', '\u0A68', '\u0A69', // 0x10
	'\u0A6A', '\u0A6B', '\u0A6C', '\u0A6D', '\u0A6E', '\u0A6F', '\u0A59', '\u0A5A', '{', '}', '\u0A5B', '\u0A5C', '\u0A5E', '\u0A75', 0, '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// tamilLocking is A.3.11, the Tamil national language locking shift table.
var tamilLocking = [128]rune{
	0, '\u0B82', '\u0B83', '\u0B85', '\u0B86', '\u0B87', '\u0B88', '\u0B89', '\u0B8A', 0, '\n', 0, 0, '\r', '\u0B8E', '\u0B8F', // 0x00
	'\u0B90', 0, '\u0B92', '\u0B93', '\u0B94', '\u0B95', 0, 0, 0, '\u0B99', '\u0B9A', 0, 0, '\u0B9C', 0, '\u0B9E', // 0x10
	' ', '!', '\u0B9F', 0, 0, 0, '\u0BA3', '\u0BA4', ')', '(', 0, 0, ',', 0, '.', '\u0BA8', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '\u0BA9', '\u0BAA', 0, '?', // 0x30
	0, 0, '\u0BAE', '\u0BAF', '\u0BB0', '\u0BB1', '\u0BB2', '\u0BB3', '\u0BB4', '\u0BB5', '\u0BB6', '\u0BB7', '\u0BB8', '\u0BB9', 0, 0, // 0x40
	'\u0BBE', '\u0BBF', '\u0BC0', '\u0BC1', '\u0BC2', 0, 0, 0, '\u0BC6', '\u0BC7', '\u0BC8', 0, '\u0BCA', '\u0BCB', '\u0BCC', '\u0BCD', // 0x50
	'\u0BD0', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0BD7', '\u0BF0', '\u0BF1', '\u0BF2', '\u0BF9', // 0x70
}

// tamilSingle is A.2.11, the Tamil national language single shift table.
var tamilSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0964', '\u0965', 0, '\u0BE6', '\u0BE7', '\u0BE8', '\u0BE9', // 0x10
	'\u0BEA', '\u0BEB', '\u0BEC', '\u0BED', '\u0BEE', '\u0BEF', '\u0BF3', '\u0BF4', '{', '}', '\u0BF5', '\u0BF6', '\u0BF7', '\u0BF8', '\u0BFA', '\\', // 0x20
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// teluguLocking is A.3.12, the Telugu national language locking shift table.
var teluguLocking = [128]rune{
	'\u0C01', '\u0C02', '\u0C03', '\u0C05', '\u0C06', '\u0C07', '\u0C08', '\u0C09', '\u0C0A', '\u0C0B', '\n', '\u0C0C', 0, '\r', '\u0C0E', '\u0C0F', // 0x00
	'\u0C10', 0, '\u0C12', '\u0C13', '\u0C14', '\u0C15', '\u0C16', '\u0C17', '\u0C18', '\u0C19', '\u0C1A', 0, '\u0C1B', '\u0C1C', '\u0C1D', '\u0C1E', // 0x10
	' ', '!', '\u0C1F', '\u0C20', '\u0C21', '\u0C22', '\u0C23', '\u0C24', ')', '(', '\u0C25', '\u0C26', ',', '\u0C27', '.', '\u0C28', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', 0, '\u0C2A', '\u0C2B', '?', // 0x30
	'\u0C2C', '\u0C2D', '\u0C2E', '\u0C2F', '\u0C30', '\u0C31', '\u0C32', '\u0C33', 0, '\u0C35', '\u0C36', '\u0C37', '\u0C38', '\u0C39', 0, '\u0C3D', // 0x40
	'\u0C3E', '\u0C3F', '\u0C40', '\u0C41', '\u0C42', '\u0C43', '\u0C44', 0, '\u0C46', '\u0C47', '\u0C48', 0, '\u0C4A', '\u0C4B', '\u0C4C', '\u0C4D', // 0x50
	'\u0C55', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0C56', '\u0C60', '\u0C61', '\u0C62', '\u0C63', // 0x70
}

// teluguSingle is A.2.12, the Telugu national language single shift table.
var teluguSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', 0, 0, 0, '\u0C66', '\u0C67', '\u0C68', '\u0C69', // 0x10
	'\u0C6A', '\u0C6B', '\u0C6C', '\u0C6D', '\u0C6E', '\u0C6F', '\u0C58', '\u0C59', '{', '}', '\u0C78', '\u0C79', '\u0C7A', '\u0C7B', '\u0C7C', '\\', // 0x20
	'\u0C7D', '\u0C7E', '\u0C7F', 0, 0, 0, 0, 0, 0, 0, 0, 0, '[', '~', ']', 0, // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}

// urduLocking is A.3.13, the Urdu national language locking shift table.
var urduLocking = [128]rune{
	'\u0627', '\u0622', '\u0628', '\u067B', '\u0680', '\u067E', '\u06A6', '\u062A', '\u06C2', '\u067F', '\n', '\u0679', '\u067D', '\r', '\u067A', '\u067C', // 0x00
	'\u062B', '\u062C', '\u0681', '\u0684', '\u0683', '\u0685', '\u0686', '\u0687', '\u062D', '\u062E', '\u062F', 0, '\u068C', '\u0688', '\u0689', '\u068A', // 0x10
	' ', '!', '\u068F', '\u068D', '\u0630', '\u0631', '\u0691', '\u0693', ')', '(', '\u0699', '\u0632', ',', '\u0696', '.', '\u0698', // 0x20
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '\u069A', '\u0633', '\u0634', '?', // 0x30
	'\u0635', '\u0636', '\u0637', '\u0638', '\u0639', '\u0641', '\u0642', '\u06A9', '\u06AA', '\u06AB', '\u06AF', '\u06B3', '\u06B1', '\u0644', '\u0645', '\u0646', // 0x40
	'\u06BA', '\u06BB', '\u06BC', '\u0648', '\u06C4', '\u06D5', '\u06C1', '\u06BE', '\u0621', '\u06CC', '\u06D0', '\u06D2', '\u064D', '\u0650', '\u064F', '\u0657', // 0x50
	'\u0654', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x60
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\u0655', '\u0651', '\u0653', '\u0656', '\u0670', // 0x70
}

// urduSingle is A.2.13, the Urdu national language single shift table.
var urduSingle = [128]rune{
	'@', '£', '$', '¥', '¿', '"', '¤', '%', '&', '\'', '\f', '*', '+', 0, '-', '/', // 0x00
	'<', '=', '>', '¡', '^', '¡', '_', '#', '*', '\u0600', '\u0601', 0, '\u06F0', '\u06F1', '\u06F2', '\u06F3', // 0x10
	'\u06F4', '\u06F5', '\u06F6', '\u06F7', '\u06F8', '\u06F9', '\u060C', '\u060D', '{', '}', '\u060E', '\u060F', '\u0610', '\u0611', '\u0612', '\\', // 0x20
	'\u0613', '\u0614', '\u061B', '\u061F', '\u0640', '\u0652', '\u0658', '\u066B', '\u066C', '\u0672', '\u0673', '\u06CD', '[', '~', ']', '\u06D4', // 0x30
	'|', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x40
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0, 0, 0, 0, 0, // 0x50
	0, 0, 0, 0, 0, '€', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x60
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0x70
}
