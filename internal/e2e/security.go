package e2e

// MustJSONString is MustJSON as a string.
func MustJSONString(v any) string { return string(MustJSON(v)) }
