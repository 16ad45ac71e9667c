package dev.yaad.bench;

import java.util.Random;

/**
 * What the {@code load} benchmark's callers say. Facts to remember are drawn from templates
 * about unrelated things, a caller going through them in turn, so that two facts of one user
 * are never near-duplicates that de-duplication could rightly merge: a fact missing from the
 * database afterwards was lost, not merged. Every template has a name, a place or a number
 * filled in at random (small talk two of them), so a caller seldom says the same sentence
 * twice, and nearly every fact and line makes a new memory.
 */
final class LoadTexts {
  private static final String[] NAMES = {"Ayesha", "Bilal", "Sana", "Imran", "Fatima", "Omar", "Zainab", "Hamza", "Maryam", "Usman"};
  private static final String[] CITIES = {"Lahore", "Karachi", "Skardu", "Multan", "Peshawar", "Quetta", "Hunza", "Murree"};

  private static final String[] FACTS = {
      "my sister {name} was born in {city}",
      "I keep my spare house key with my neighbour {name} on floor {num}",
      "my blood group is O negative and I have been allergic to penicillin since I was {num}",
      "our cat is called {name} and she is {num} years old",
      "I have driven a white Suzuki Cultus in {city} for {num} years",
      "my favourite poet is Faiz Ahmed Faiz and I read him with {name} on Fridays",
      "I work night shifts at a call centre in {city} with my cousin {name}",
      "the wifi password at my uncle's house in {city} is mango{num}",
      "my daughter {name} starts school in {city} in September",
      "I broke my left wrist playing cricket in {city} when I was {num}",
      "I cannot eat anything with peanuts in it since I was {num}",
      "my grandfather built furniture in {city} for {num} years",
      "I am learning to play the sitar with {name} on Thursday evenings",
      "my passport expires in {num} months and needs renewing in {city}",
      "my best friend {name} moved from {city} to Toronto last winter",
      "I take the number {num} bus to the university in {city} every morning",
      "I am saving {num} thousand rupees a month for a trip to see the cherry blossoms in Japan",
      "my mother's biryani recipe from {city} uses black cardamom",
      "I volunteer at the animal shelter in {city} with {name} on Sundays",
      "my phone screen cracked when I dropped it on the stairs in {city}",
      "I prefer green tea with honey over coffee since {name} got me into it",
      "my neighbour {name} plays the harmonium very loudly after {num} at night",
      "I sleep badly when the room is warmer than {num} degrees",
      "my wedding anniversary is on the {num}th of March",
  };

  private static final String[] CHAT = {
      "I had a long day at work in {city} and the traffic home took {num} minutes",
      "We went to the market with {name} and bought {num} mangoes and fresh bread",
      "I have been thinking about learning to swim with {name} in {city} this summer",
      "My brother called me from {city} and we talked about our old friend {name}",
      "The weather in {city} has been so hot that I drank {num} glasses of water",
      "I finished reading a novel about a family in {city} that {name} lent me",
      "I am planning to visit my aunt in {city} in {num} days",
      "I tried {name}'s recipe for lentil soup and made {num} bowls of it",
      "My friend {name} is getting married in {city} and I need to find a gift",
      "I went for a walk in the park in {city} and watched {num} kids play cricket",
      "I feel a bit anxious about {name}'s exam results coming out in {num} days",
      "We watched an old film with {name} and the whole family in {city} last night",
  };

  private LoadTexts() {}

  /** The caller's {@code n}th fact: caller and turn pick the template, so a caller does not repeat one soon. */
  static String fact(int caller, int n, Random random) {
    return fill(FACTS[Math.floorMod(caller * 7 + n, FACTS.length)], random);
  }

  static String chat(Random random) {
    return fill(CHAT[random.nextInt(CHAT.length)], random);
  }

  private static String fill(String template, Random random) {
    return template.replace("{name}", NAMES[random.nextInt(NAMES.length)])
        .replace("{city}", CITIES[random.nextInt(CITIES.length)])
        .replace("{num}", Integer.toString(2 + random.nextInt(26)));
  }
}
