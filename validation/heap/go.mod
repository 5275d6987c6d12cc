module gcsim/validation/heap

go 1.27
