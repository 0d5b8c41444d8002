package ui_test

import (
	"fmt"
	"github.com/gsmgate/gsmgate/gateway/model"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCounterBoundaries: the counter under the compose box shows, at
// every segmentation boundary, exactly the core's count (the one Send
// stores and sends).
func TestCounterBoundaries(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "cora", model.VisibilityAll, model.RoleStaff)
	tb := s.tab(t, 1280, 800)
	tb.login("cora", pw)
	tb.open("/compose")
	tb.waitJS("the compose box", `!!`+sel(`[data-testid=compose-text]`))

	rep := strings.Repeat
	cases := []struct {
		name  string
		text  string
		chars int
		parts int
		enc   string
	}{
		{"160 GSM-7", rep("a", 160), 160, 1, "gsm7"},
		{"161 GSM-7", rep("a", 161), 161, 2, "gsm7"},
		{"306 GSM-7", rep("a", 306), 306, 2, "gsm7"},
		{"307 GSM-7", rep("a", 307), 307, 3, "gsm7"},
		{"escapes count 2: 80 euro", rep("€", 80), 80, 1, "gsm7"},
		{"escapes count 2: 81 euro", rep("€", 81), 81, 2, "gsm7"},
		{"escape at the part boundary", rep("a", 159) + "[", 160, 2, "gsm7"},
		{"70 UCS-2", rep("Ж", 70), 70, 1, "ucs2"},
		{"71 UCS-2", rep("Ж", 71), 71, 2, "ucs2"},
		{"134 UCS-2", rep("Ж", 134), 134, 2, "ucs2"},
		{"135 UCS-2", rep("Ж", 135), 135, 3, "ucs2"},
		{"35 emoji are 70 UTF-16 units", rep("😀", 35), 35, 1, "ucs2"},
		{"36 emoji are 72 units", rep("😀", 36), 36, 2, "ucs2"},
		{"emoji across the 67-unit part edge", rep("a", 66) + "😀", 67, 1, "ucs2"},
		{"empty", "", 0, 1, "gsm7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			core := s.svc.CountText(c.text)
			if core.Characters != c.chars || core.Parts != c.parts || core.Encoding != c.enc {
				t.Fatalf("core counts %d chars %d parts %s; the table says %d %d %s", core.Characters, core.Parts, core.Encoding, c.chars, c.parts, c.enc)
			}
			tb.paste(`[data-testid=compose-text]`, c.text)
			want := fmt.Sprintf(`(() => { const k = document.querySelector('[data-testid=counter]'); return k.dataset.characters === '%d' && k.dataset.parts === '%d' && k.dataset.encoding === '%s'; })()`,
				core.Characters, core.Parts, core.Encoding)
			tb.waitJS(c.name, want)
			text := eval[string](tb, sel(`[data-testid=counter] .counter-text`)+`.textContent`)
			if !strings.HasPrefix(text, fmt.Sprintf("%d characters · %d message", core.Characters, core.Parts)) {
				t.Errorf("counter reads %q", text)
			}
		})
	}

	// Characters forcing UCS-2 are listed where they are, and the common
	// ones are replaced in one click.
	text := "It’s done — see you…"
	tb.paste(`[data-testid=compose-text]`, text)
	tb.waitJS("the forcing characters", `document.querySelectorAll('[data-testid=counter-unicode-char]').length === 3`)
	got := eval[string](tb, `Array.from(document.querySelectorAll('[data-testid=counter-unicode-char]')).map(b => b.dataset.char + '@' + b.dataset.index).join(' ')`)
	if got != "’@2 —@10 …@19" {
		t.Fatalf("forcing characters %q", got)
	}
	for left := 2; left >= 0; left-- {
		tb.do(chromedp.Click(`[data-testid=counter-unicode-char]`))
		tb.waitJS("one fewer", fmt.Sprintf(`document.querySelectorAll('[data-testid=counter-unicode-char]').length === %d`, left))
	}
	tb.waitJS("GSM-7 again", sel(`[data-testid=counter]`)+`.dataset.encoding === 'gsm7'`)
	if v := eval[string](tb, sel(`[data-testid=compose-text]`)+`.value`); v != "It's done - see you..." {
		t.Fatalf("after the replacements the text is %q", v)
	}
}
