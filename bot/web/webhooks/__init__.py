"""What providers call: Twilio texts and delivery reports, Telegram updates."""
