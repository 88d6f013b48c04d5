package phpcodec

import (
	"math"
	"testing"
)

// Expected strings were produced by PHP 8.2's serialize() with the default
// serialize_precision=-1 (TestPHPFloatFormatting checks many more against
// a live PHP).
func TestFormatFloat(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1, "1"},
		{-1, "-1"},
		{100, "100"},
		{0.1, "0.1"},
		{0.5, "0.5"},
		{2.5, "2.5"},
		{4.35, "4.35"},
		{1.0 / 3, "0.3333333333333333"},
		{0.001, "0.001"},
		{0.0001, "0.0001"},
		{0.0001234, "0.0001234"},
		{0.00012, "0.00012"},
		{-0.0001, "-0.0001"},
		{1e-5, "1.0E-5"},
		{1.5e-5, "1.5E-5"},
		{1.2e-5, "1.2E-5"},
		{1.234e-5, "1.234E-5"},
		{1e-7, "1.0E-7"},
		{5e-324, "5.0E-324"},
		{2e-310, "2.0E-310"},
		{1e14, "100000000000000"},
		{999999999999999, "999999999999999"},
		{1e15, "1000000000000000"},
		{1e15 + 0.5, "1000000000000000.5"},
		{1234567890123456, "1234567890123456"},
		{1e16, "10000000000000000"},
		{12345678901234567, "12345678901234568"},
		{9007199254740993, "9007199254740992"},
		{1e17, "1.0E+17"},
		{-1e17, "-1.0E+17"},
		{1.5e17, "1.5E+17"},
		{12345678901234567890, "1.2345678901234567E+19"},
		{1e20, "1.0E+20"},
		{1e21, "1.0E+21"},
		{1e25, "1.0E+25"},
		{1e100, "1.0E+100"},
		{-1.5e300, "-1.5E+300"},
		{math.MaxFloat64, "1.7976931348623157E+308"},
		{math.NaN(), "NAN"},
		{math.Inf(1), "INF"},
		{math.Inf(-1), "-INF"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.f); got != tt.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestParseFloatText(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true},
		{"-1", -1, true},
		{"+1.5", 1.5, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"1e3", 1000, true},
		{"1E+2", 100, true},
		{"1.5E-5", 1.5e-5, true},
		{"-0", math.Copysign(0, -1), true},
		{"1e400", math.Inf(1), true},
		{"-1e400", math.Inf(-1), true},
		{"1e-400", 0, true},
		{"NAN", math.NaN(), true},
		{"INF", math.Inf(1), true},
		{"-INF", math.Inf(-1), true},
		// Rejected by PHP's unserialize() too.
		{"", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"1e", 0, false},
		{"1e+", 0, false},
		{" 5", 0, false},
		{"0x10", 0, false},
		{"nan", 0, false},
		{"-NAN", 0, false},
		{"+INF", 0, false},
		{"inf", 0, false},
		{"1_000", 0, false},
		{"1.5.5", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseFloatText([]byte(tt.in))
		if ok != tt.ok || ok && !equal(got, tt.want) {
			t.Errorf("parseFloatText(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Every float written must read back as the same bits.
func TestFloatRoundTrip(t *testing.T) {
	vals := []float64{0.1, 1e15, 1e16, 1e17, 1.5e-5, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, -2.2250738585072014e-308, 123.456, 1 << 53, 1<<53 + 2}
	seed := uint64(0x9E3779B97F4A7C15)
	for range 20000 {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		vals = append(vals, math.Float64frombits(seed))
	}
	for _, f := range vals {
		if math.IsNaN(f) {
			continue
		}
		s := FormatFloat(f)
		got, ok := parseFloatText([]byte(s))
		if !ok || math.Float64bits(got) != math.Float64bits(f) {
			t.Fatalf("%v (%#x) -> %q -> %v, %v", f, math.Float64bits(f), s, got, ok)
		}
	}
}
