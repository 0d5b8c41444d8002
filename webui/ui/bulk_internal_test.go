package ui

import (
	"slices"
	"strings"
	"testing"
)

func TestCSVNumbers(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"a header names the column", "name,Mobile\nAda,+447911123201\nGrace,07911123202\n", []string{"+447911123201", "07911123202"}},
		{"no header: the first column", "+447911123201,Ada\n07911123202\n", []string{"+447911123201", "07911123202"}},
		{"a header without a number column: the first", "who\n+447911123201\n", []string{"+447911123201"}},
		{"empty values are skipped, bad ones kept for the preview", "number\n\n12\n\"+44 7911 123201\"\n", []string{"12", "+44 7911 123201"}},
		{"a BOM before the header", "\ufeffnumber;name\n+447911123201;Ada\n", []string{"+447911123201"}},
		{"short rows", "name,phone\nAda\nGrace,07911123202\n", []string{"07911123202"}},
		{"empty file", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := csvNumbers(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSplitNumbers(t *testing.T) {
	got := splitNumbers(" +447911123201, 07911123202;12\r\n\n+447911123203 ")
	want := []string{"+447911123201", "07911123202", "12", "+447911123203"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzCSVNumbers: any upload is read without a panic, and every value it
// gives is trimmed and not empty.
func FuzzCSVNumbers(f *testing.F) {
	for _, s := range []string{"number\n+447911123201\n", "a,b\n1,2\n", "\"x\n", "\ufeffphone\n07911\n", ",,,\n;;;\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := csvNumbers(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range got {
			if v == "" || v != strings.TrimSpace(v) {
				t.Fatalf("value %q", v)
			}
		}
	})
}
