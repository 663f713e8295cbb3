package connector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd"
)

// TestIngestionEventRendersLate: an ingestion's event carries the
// ingestion as the store leaves it (its status and times, set in the
// transaction), not as it was when the change was built, the same bytes as
// its view without personal data, and none of the data it extracted.
func TestIngestionEventRendersLate(t *testing.T) {
	in := &kycd.Ingestion{ID: "i", TenantID: "t", UserID: "u", Provider: kycd.ProviderSumsub, Status: kycd.IngestionRunning,
		Processes: []string{kycd.ProcessProofOfAddress},
		Result:    map[string]*kycd.IngestionResult{kycd.ProcessProofOfAddress: {Status: kycd.ResultCompleted, Data: map[string]any{"city": "Qzcity"}}}}
	ev := IngestionEvent(in, kycd.EventIngestionStatusChanged(in.Provider))
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	in.Status, in.UpdatedAt, in.FinishedAt = kycd.IngestionFinished, at, &at
	got, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(map[string]any{"ingestion": NewIngestionView(in, false)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || !strings.Contains(string(got), `"finishedAt":"2026-03-04T05:06:07Z"`) ||
		!strings.Contains(string(got), `"proofOfAddress":{"status":"completed"}`) || strings.Contains(string(got), "Qzcity") {
		t.Errorf("payload %s, want %s", got, want)
	}
}
