package e2e

func MustJSONString(v any) string { return string(MustJSON(v)) }
