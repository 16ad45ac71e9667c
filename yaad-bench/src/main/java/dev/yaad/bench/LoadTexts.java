package dev.yaad.bench;

import java.util.Random;

/**
 * What the {@code load} benchmark's callers say. Facts to remember are drawn from templates
 * about unrelated things, a caller going through them in turn, so that two facts of one user
 * are never near-duplicates that de-duplication could rightly merge: a fact missing from the
 * database afterwards was lost, not merged.
 */
final class LoadTexts {
  private static final String[] NAMES = {"Ayesha", "Bilal", "Sana", "Imran", "Fatima", "Omar", "Zainab", "Hamza", "Maryam", "Usman"};
  private static final String[] CITIES = {"Lahore", "Karachi", "Skardu", "Multan", "Peshawar", "Quetta", "Hunza", "Murree"};

  private static final String[] FACTS = {
      "my sister was born in {city}",
      "I keep my spare house key under the blue flower pot",
      "my blood group is O negative and I am allergic to penicillin",
      "our cat is called {name} and she hates thunderstorms",
      "I have driven a white Suzuki Cultus for {num} years",
      "my favourite poet is Faiz Ahmed Faiz",
      "I work night shifts at a call centre in {city}",
      "the wifi password at my uncle's house is mango{num}",
      "my daughter {name} starts school in September",
      "I broke my left wrist playing cricket when I was {num}",
      "I cannot eat anything with peanuts in it",
      "my grandfather built furniture in {city} for forty years",
      "I am learning to play the sitar on Thursday evenings",
      "my passport expires in {num} months and needs renewing",
      "my best friend {name} moved to Toronto last winter",
      "I take the number {num} bus to the university every morning",
      "I am saving for a trip to see the cherry blossoms in Japan",
      "my mother's biryani recipe uses black cardamom",
      "I volunteer at the animal shelter in {city} on Sundays",
      "my phone screen cracked when I dropped it on the stairs",
      "I prefer green tea with honey over coffee",
      "my neighbour {name} plays the harmonium very loudly at night",
      "I sleep badly when the room is warmer than {num} degrees",
      "my wedding anniversary is on the {num}th of March",
  };

  private static final String[] CHAT = {
      "I had a long day at work and the traffic home was terrible",
      "We went to the market and bought mangoes and fresh bread",
      "I have been thinking about learning to swim this summer",
      "My brother called me and we talked about our childhood",
      "The weather has been so hot that I stayed indoors all afternoon",
      "I finished reading a novel about a family in old Delhi",
      "I am planning to visit my aunt in {city} next week",
      "I tried a new recipe for lentil soup and it came out well",
      "My friend {name} is getting married and I need to find a gift",
      "I went for a walk in the park and watched the kids play cricket",
      "I feel a bit anxious about the exam results coming out",
      "We watched an old film with the whole family last night",
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
