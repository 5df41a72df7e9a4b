"""Photos and PDFs in a group's messages: what an upload must be, where its file is kept."""
