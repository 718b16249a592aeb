/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package learning

import (
	"context"
	"net/url"

	"github.com/skillmesh/skillmesh/services/platform/client"
)

// Client is the typed client of the learning service.
type Client struct{ c *client.Client }

// NewClient calls the learning service at baseURL (LEARNING_URL).
func NewClient(baseURL string, opts client.Options) (*Client, error) {
	opts.Name = "learning"
	c, err := client.New(baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Courses returns the user's enrolments; client.IsNotFound(err) for an unknown user.
func (c *Client) Courses(ctx context.Context, userID string) ([]Enrollment, error) {
	var out struct {
		Courses []Enrollment `json:"courses"`
	}
	err := c.c.GetJSON(ctx, "/users/"+url.PathEscape(userID)+"/courses", &out)
	return out.Courses, err
}

// Recommendations returns courses for the gaps of the user's latest plan.
func (c *Client) Recommendations(ctx context.Context, userID string) (Recommendations, error) {
	var r Recommendations
	err := c.c.GetJSON(ctx, "/users/"+url.PathEscape(userID)+"/recommendations", &r)
	return r, err
}

// Enroll puts the user on a course (not retried).
func (c *Client) Enroll(ctx context.Context, userID, courseID string) (Enrollment, error) {
	var e Enrollment
	err := c.c.PostJSON(ctx, "/users/"+url.PathEscape(userID)+"/enrollments", map[string]string{"course_id": courseID}, &e)
	return e, err
}
