"""Serial device drivers on the shared codecs, behind the small :class:`SerialLink` port."""
