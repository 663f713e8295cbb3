package jobs

import (
	"context"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/kycd/kycd"
)

// TestMiddlewareActor: a job runs as the system actor of its kind, whatever
// the context River hands it.
func TestMiddlewareActor(t *testing.T) {
	mw := Middleware()
	if len(mw) != 1 {
		t.Fatalf("%d middleware", len(mw))
	}
	w, ok := mw[0].(rivertype.WorkerMiddleware)
	if !ok {
		t.Fatal("the middleware does not wrap workers")
	}
	var got kycd.Actor
	err := w.Work(context.Background(), &rivertype.JobRow{Kind: kycd.UserEraseArgs{}.Kind()}, func(ctx context.Context) error {
		got = kycd.ActorFromContext(ctx)
		return nil
	})
	if err != nil || got.String() != "system:user_erase" {
		t.Errorf("actor %q, %v", got, err)
	}
}
