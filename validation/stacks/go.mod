module gcsim/validation/stacks

go 1.27
