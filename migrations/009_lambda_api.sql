-- What the Lambda API (control-plane/lambda-api/) keeps about a function that Gantry's own model
-- has no place for: the IAM role it was given, its tags and its resource policy
-- (AddPermission statements). Deleted with the function.
CREATE TABLE lambda_function_attributes (
  function_id  uuid PRIMARY KEY REFERENCES functions (id) ON DELETE CASCADE,
  tenant_id    text NOT NULL,
  role         text NOT NULL DEFAULT '',
  tags         jsonb NOT NULL DEFAULT '{}'::jsonb,
  statements   jsonb NOT NULL DEFAULT '[]'::jsonb,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
