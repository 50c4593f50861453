"""SampleApp: a TurboGears 2.5 application showing every feature of tgext.resources."""
