"""Publishing: channels (platform accounts), publications, platform clients, sandbox."""
