package availability_test

import (
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

func TestParseObjective(t *testing.T) {
	tests := []struct {
		in        string
		want      string // String of the parsed objective
		wantRatio float64
		wantErr   bool
	}{
		{in: "99.9", want: "99.9", wantRatio: 0.999},
		{in: "50", want: "50", wantRatio: 0.5},
		{in: "99.999", want: "99.999", wantRatio: 0.99999},
		{in: "99.99", want: "99.99", wantRatio: 0.9999},
		{in: "75.5", want: "75.5", wantRatio: 0.755},
		{in: "99.900", want: "99.9", wantRatio: 0.999},
		{in: "50.000", want: "50", wantRatio: 0.5},
		{in: "95.05", want: "95.05", wantRatio: 0.9505},

		{in: "", wantErr: true},
		{in: "49.999", wantErr: true},
		{in: "100", wantErr: true},
		{in: "99.9999", wantErr: true},
		{in: "99.", wantErr: true},
		{in: ".9", wantErr: true},
		{in: "+99", wantErr: true},
		{in: "-99", wantErr: true},
		{in: "99.+9", wantErr: true},
		{in: "99.-9", wantErr: true},
		{in: "99.9a", wantErr: true},
		{in: " 99", wantErr: true},
		{in: "99,9", wantErr: true},
		{in: "9e1", wantErr: true},
		{in: "0x63", wantErr: true},
		{in: "9_9", wantErr: true},
		{in: "99.9.9", wantErr: true},
		{in: "356", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := availability.ParseObjective(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseObjective(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseObjective(%q): %v", tc.in, err)
			}
			if got.String() != tc.want || got.Ratio() != tc.wantRatio {
				t.Errorf("ParseObjective(%q) = %s (%v), want %s (%v)", tc.in, got, got.Ratio(), tc.want, tc.wantRatio)
			}
		})
	}
}

func TestParseObjectiveError(t *testing.T) {
	_, err := availability.ParseObjective("100")
	want := `objective "100": want a percentage from 50 to 99.999 with up to 3 decimals, such as 99.9`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// objective parses s or fails the test.
func objective(t testing.TB, s string) availability.Objective {
	t.Helper()
	o, err := availability.ParseObjective(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
