package phpcodec

import (
	"math"
	"strconv"
)

// appendFloat appends f the way PHP's serialize() writes a float with
// serialize_precision=-1 (the default since PHP 7.1): the shortest digits
// that read back as the same float64, in plain decimal notation when the
// decimal exponent is between -5 and 16 exclusive (0.0001 but 1.0E-5,
// 10000000000000000 but 1.0E+17), else in PHP's E notation with at least
// one digit after the point (1.0E+25, 1.5E-7). NaN, the infinities and
// negative zero are NAN, INF, -INF and -0.
//
// This is zend_gcvt with mode 0 and 17 as the precision limit: exponential
// form when decpt < -3 or decpt > 17, decpt being the position of the
// decimal point relative to the first significant digit.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NAN"...)
	case math.IsInf(f, 1):
		return append(dst, "INF"...)
	case math.IsInf(f, -1):
		return append(dst, "-INF"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	// Split into significant digits and exponent.
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[nd] = s[i]
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(s[i+1:]))
	decpt := exp + 1
	d := digits[:nd]

	switch {
	case decpt < -3 || decpt > 17:
		dst = append(dst, d[0], '.')
		if nd == 1 {
			dst = append(dst, '0')
		} else {
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'E')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	case decpt <= 0:
		dst = append(dst, '0', '.')
		for ; decpt < 0; decpt++ {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	default:
		if nd <= decpt {
			dst = append(dst, d...)
			for j := nd; j < decpt; j++ {
				dst = append(dst, '0')
			}
			return dst
		}
		dst = append(dst, d[:decpt]...)
		dst = append(dst, '.')
		return append(dst, d[decpt:]...)
	}
}

// FormatFloat returns f as PHP's serialize() and var_export() write it
// under the default serialize_precision=-1, without the "d:" prefix: for
// example 0.1, 1.0E+25, 1.0E-5, -0, NAN, INF.
func FormatFloat(f float64) string {
	return string(appendFloat(nil, f))
}

// parseFloatText parses the number after "d:" (before ';'), accepting what
// PHP's unserialize() accepts: NAN, INF, -INF, and decimal numbers with an
// optional sign, optional fraction and optional exponent (1, +1.5, .5, 5.,
// 1e5, 1.5E-7). It reports false for anything else. Out-of-range numbers
// become ±Inf or zero, as in PHP.
func parseFloatText(b []byte) (float64, bool) {
	switch string(b) {
	case "NAN":
		return math.NaN(), true
	case "INF":
		return math.Inf(1), true
	case "-INF":
		return math.Inf(-1), true
	}
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	intDigits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			fracDigits++
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return 0, false
		}
	}
	if i != len(b) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// The grammar was checked above, so only a range error is
		// possible; ParseFloat then returns ±Inf or ±0 like zend_strtod.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}
